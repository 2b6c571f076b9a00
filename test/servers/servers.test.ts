// The servers that have no fixture of their own still answer as the adapters expect.
import { connect } from 'node:net';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, expect, it } from 'vitest';
import { describeServer } from '../../harness/servers/index.js';
import { createUnixUser, deleteUnixUser, uniqueName } from '../../harness/servers/fixtures.js';

const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;

/** Logs in over Telnet, refusing every option, runs one command and returns what the session printed. */
function telnetRun(server: { host: string; port: number }, user: string, password: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server);
    let text = '';
    let step: 'login' | 'password' | 'shell' | 'done' = 'login';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`telnet timed out at ${step}; got ${JSON.stringify(text)}`));
    }, 20_000);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i] ?? 0;
        if (byte !== IAC) {
          text += String.fromCharCode(byte);
          continue;
        }
        const verb = chunk[i + 1] ?? 0;
        const option = chunk[i + 2] ?? 0;
        if (verb === DO || verb === DONT || verb === WILL || verb === WONT) {
          if (verb === DO) socket.write(Buffer.from([IAC, WONT, option]));
          if (verb === WILL) socket.write(Buffer.from([IAC, DONT, option]));
          i += 2;
        } else if (verb === SB) {
          while (i < chunk.length && !(chunk[i] === IAC && chunk[i + 1] === SE)) i++;
          i++;
        } else {
          i++;
        }
      }
      if (step === 'login' && /login: $/.test(text)) {
        step = 'password';
        socket.write(`${user}\r\n`);
      } else if (step === 'password' && /Password: ?$/.test(text)) {
        step = 'shell';
        socket.write(`${password}\r\n`);
      } else if (step === 'shell' && /\$ $/.test(text)) {
        // Only now: login flushes typeahead sent before the shell starts.
        step = 'done';
        socket.write(`${command}; exit\r\n`);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

describeServer('telnet', 'the test telnetd', (telnet) => {
  const users: string[] = [];
  afterAll(async () => {
    for (const user of users) await deleteUnixUser(user);
  });

  it.runIf(process.getuid?.() === 0)('logs a test user in through /bin/login', async () => {
    const user = uniqueName('rprtel');
    const password = `t'e"l\\n$et ${uniqueName('p')}`;
    users.push(user);
    await createUnixUser(user, password);
    const output = await telnetRun(telnet, user, password, 'echo telnet-$((20+22))');
    expect(output).toContain('telnet-42');
  });
});

describeServer('moto', 'the test moto_server', (moto) => {
  it('answers Secrets Manager calls', async () => {
    const client = new SecretsManagerClient({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const result = await client.send(new ListSecretsCommand({}));
    expect(Array.isArray(result.SecretList)).toBe(true);
    client.destroy();
  });
});
