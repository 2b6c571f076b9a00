// A second Debian sshd for host key tests, started the way test/servers/setup.sh starts the
// suite's own (its own config, host key and PID file on 127.0.0.1), on a port of its own and
// with a log of its own at DEBUG1, so a test can read whether any client tried to authenticate.
// It checks passwords through PAM against the same /etc/shadow as the suite's sshd.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class TestSshd {
  readonly host = '127.0.0.1';
  #child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    /** The fingerprint of the host key this instance presents (base64 SHA-256 without padding). */
    readonly hostKeySha256: string,
    readonly logFile: string,
  ) {}

  /** Starts sshd with a new ed25519 host key, on `port` (default: a free one). */
  static async start(port?: number): Promise<TestSshd> {
    const dir = await mkdtemp(join(tmpdir(), 'rpr-sshd-'));
    const key = join(dir, 'ssh_host_ed25519_key');
    await run('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const blob = Buffer.from((await readFile(`${key}.pub`, 'utf8')).split(' ')[1]!, 'base64');
    const sshd = new TestSshd(port ?? (await freePort()), dir, createHash('sha256').update(blob).digest('base64').replace(/=+$/, ''), join(dir, 'sshd.log'));
    await sshd.#run(key);
    return sshd;
  }

  /** Stops this instance and starts another on the same port with a new host key: the host's key swapped. */
  async swapHostKey(): Promise<TestSshd> {
    await this.stop();
    return TestSshd.start(this.port);
  }

  /** The instance's log so far (sshd -E). */
  log(): Promise<string> {
    return readFile(this.logFile, 'utf8').catch(() => '');
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }

  /** Stops the instance and removes its folder. */
  async close(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  async #run(key: string): Promise<void> {
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    const config = join(this.dir, 'sshd_config');
    await writeFile(
      config,
      [
        `Port ${this.port}`,
        `ListenAddress ${this.host}`,
        `HostKey ${key}`,
        `PidFile ${join(this.dir, 'sshd.pid')}`,
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication yes',
        'PubkeyAuthentication yes',
        'AuthorizedKeysFile .ssh/authorized_keys',
        'UsePAM yes',
        'PermitRootLogin prohibit-password',
        'MaxStartups 100:30:200',
        'LoginGraceTime 30',
        'PrintMotd no',
        // DEBUG1 logs every "userauth-request" (user and method) a client makes.
        'LogLevel DEBUG1',
        '',
      ].join('\n'),
    );
    await run('/usr/sbin/sshd', ['-t', '-f', config]);
    // -D: stays this process's child, stopped by its pid; -E: its own log.
    const child = spawn('/usr/sbin/sshd', ['-D', '-f', config, '-E', this.logFile], { stdio: 'ignore' });
    this.#child = child;
    await waitForPort(this.host, this.port, 10_000, child);
  }
}

/** The lines of an sshd log that show a client asking to authenticate (any method, any user). */
export function authenticationAttempts(log: string): string[] {
  return log.split('\n').filter((l) => /userauth-request|Accepted |Failed (password|keyboard|publickey|none)|authentication failure|PAM: password/i.test(l));
}

function run(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${stderr.trim()}`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(host: string, port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited ${child.exitCode} before listening on ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
