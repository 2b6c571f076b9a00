// The independent proof of a password over SSH: ssh2's Client directly, never the adapter under test.
import ssh2 from 'ssh2';

/**
 * Whether SSH password authentication with this name and password is accepted (no shell is
 * opened). False only when authentication is refused; any other failure rejects.
 */
export function sshAuthenticates(at: { readonly host: string; readonly port: number }, username: string, password: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('ready', () => {
      client.end();
      resolve(true);
    });
    client.on('error', (e: Error & { level?: string }) => {
      if (e.level === 'client-authentication') resolve(false);
      else reject(e);
    });
    client.connect({ host: at.host, port: at.port, username, password, readyTimeout: 5_000, tryKeyboard: false });
    // Small packets both ways: without TCP_NODELAY each one may wait on a delayed ACK.
    client.setNoDelay(true);
  });
}
