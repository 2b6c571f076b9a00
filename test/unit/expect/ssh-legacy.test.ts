import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openDeviceStream } from '../../../layers/expect/device-stream.js';
import { LEGACY_SSH_ALGORITHMS, type LegacySshAlgorithms } from '../../../layers/engine/ssh-algorithms.js';
import { deviceAlgorithms, SshConnection, type SshHostKeyCheck } from '../../../layers/expect/ssh.js';
import { DO, IAC, OPTION, SB, SE, WILL } from '../../../layers/expect/telnet-codec.js';
import { memoryHostKeys } from '../../../harness/support/adapter-context.js';
import { ed25519KeyPair } from '../../support/ssh-keys.js';

const PASSWORD = 'Legacy-ssh-pw-1';
const OLD_DEVICE = { kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] } as const;

/** An ssh2 server that offers only `algorithms` (an IOS 12.2-era set), takes one password and serves a shell. */
async function server(hostKey: string, algorithms?: ssh2.Algorithms): Promise<{ server: InstanceType<typeof ssh2.Server>; port: number; ptys: ssh2.PseudoTtyInfo[] }> {
  const ptys: ssh2.PseudoTtyInfo[] = [];
  const s = new ssh2.Server({ hostKeys: [hostKey], ...(algorithms ? { algorithms } : {}) }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => (ctx.method === 'password' && ctx.password === PASSWORD ? ctx.accept() : ctx.reject(['password'])));
    client.on('session', (accept) => {
      const session = accept();
      session.on('pty', (ok, _reject, info) => {
        ptys.push(info);
        ok?.();
      });
      session.on('shell', (ok) => {
        const channel = ok();
        channel.write('R1>');
        channel.on('data', () => channel.close());
      });
    });
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { server: s, port: (s.address() as { port: number }).port, ptys };
}

const trustAny = (): SshHostKeyCheck => ({ resourceId: 'dev1', trust: memoryHostKeys() });

describe('SSH: legacy algorithms for devices, off unless named', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'pkcs1', format: 'pem' } });
  let old: Awaited<ReturnType<typeof server>>;
  let modern: Awaited<ReturnType<typeof server>>;
  /** Modern key exchange and cipher, but only ssh-rsa and hmac-sha1: ssh2's defaults, not the device offer. */
  let rsaSha1: Awaited<ReturnType<typeof server>>;

  beforeAll(async () => {
    old = await server(rsa.privateKey, { kex: [...OLD_DEVICE.kex], serverHostKey: [...OLD_DEVICE.serverHostKey], cipher: [...OLD_DEVICE.cipher], hmac: [...OLD_DEVICE.hmac] });
    modern = await server(ed25519KeyPair().private);
    rsaSha1 = await server(rsa.privateKey, { serverHostKey: ['ssh-rsa'], hmac: ['hmac-sha1'], cipher: ['aes128-ctr'] });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => old.server.close(() => resolve()));
    await new Promise<void>((resolve) => modern.server.close(() => resolve()));
    await new Promise<void>((resolve) => rsaSha1.server.close(() => resolve()));
  });

  const connect = (port: number, legacyAlgorithms: LegacySshAlgorithms | undefined, password = PASSWORD) =>
    openDeviceStream({ protocol: 'ssh', host: '127.0.0.1', port, username: 'admin', password: new Secret(password), hostKey: trustAny(), timeoutMs: 5_000, ...(legacyAlgorithms ? { legacyAlgorithms } : {}) });

  it('offers ssh2 defaults without any legacy name, and appends only the named ones', () => {
    const a = deviceAlgorithms({ serverHostKey: ['ssh-rsa'] }) as unknown as Record<string, { remove: string[]; append: string[] }>;
    expect(a.serverHostKey).toEqual({ remove: [...LEGACY_SSH_ALGORITHMS.serverHostKey], append: ['ssh-rsa'] });
    expect(a.hmac).toEqual({ remove: [...LEGACY_SSH_ALGORITHMS.hmac], append: [] });
    expect(Object.keys(a).sort()).toEqual(['cipher', 'hmac', 'kex', 'serverHostKey']);
  });

  it('the default device offer fails against an old device, naming what it offers and the sshAlgorithms field, one kind after the other', async () => {
    const steps: [LegacySshAlgorithms, string, string][] = [
      [{}, 'sshAlgorithms.kex', 'diffie-hellman-group14-sha1'],
      [{ kex: ['diffie-hellman-group14-sha1'] }, 'sshAlgorithms.serverHostKey', 'ssh-rsa'],
      [{ kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'] }, 'sshAlgorithms.cipher', 'aes128-cbc'],
      [{ kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'] }, 'sshAlgorithms.hmac', 'hmac-sha1'],
    ];
    for (const [named, field, offered] of steps) {
      const e = await connect(old.port, named).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e, field).toBeInstanceOf(TargetUnchangedError);
      expect((e as Error).message, field).toContain(field);
      expect((e as Error).message, field).toContain(`it offers ${offered}`);
    }
  });

  it('connects when the resource names them, with a VT100 pty wide and tall enough not to page', async () => {
    const d = await connect(old.port, { kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] });
    const got = await new Promise<string>((resolve) => d.stream.subscribe({ data: (b) => resolve(b.toString()), close: () => resolve('closed') }));
    expect(got).toBe('R1>');
    expect(old.ptys.at(-1)).toMatchObject({ term: 'vt100', cols: 511, rows: 512 });
    await d.close();
  });

  it('the device offer still connects to a modern server', async () => {
    const d = await connect(modern.port, {});
    await d.close();
  });

  it('a name outside the legacy list, or an unknown kind, is InvalidConfigurationError naming the field, before connecting', async () => {
    const e = await connect(old.port, { cipher: ['arcfour'] } as unknown as LegacySshAlgorithms).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('sshAlgorithms.cipher');
    const k = await connect(old.port, { compress: ['zlib'] } as unknown as LegacySshAlgorithms).catch((x: unknown) => x);
    expect((k as InvalidConfigurationError).field).toBe('sshAlgorithms.compress');
  });

  it('a refused SSH password is AuthenticationError', async () => {
    await expect(connect(modern.port, {}, 'wrong-password')).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('without legacyAlgorithms (the Unix and Windows adapters) the offer is ssh2 defaults as before, ssh-rsa and hmac-sha1 included', async () => {
    const conn = await SshConnection.connect({ host: '127.0.0.1', port: rsaSha1.port, username: 'admin', password: new Secret(PASSWORD), hostKey: trustAny(), timeoutMs: 5_000 });
    await conn.close();
    // The device offer leaves both out unless named.
    const e = await connect(rsaSha1.port, {}).catch((x: unknown) => x);
    expect((e as Error).message).toContain('sshAlgorithms.serverHostKey');
    await (await connect(rsaSha1.port, { serverHostKey: ['ssh-rsa'], hmac: ['hmac-sha1'] })).close();
  });
});

describe('openDeviceStream over Telnet', () => {
  let net: NetServer;
  let port: number;
  const replies: Buffer[] = [];
  beforeAll(async () => {
    net = createServer((socket: Socket) => {
      socket.on('data', (b: Buffer) => replies.push(b));
      socket.write(Buffer.from([IAC, DO, OPTION.NAWS]));
    });
    await new Promise<void>((resolve) => net.listen(0, '127.0.0.1', resolve));
    port = (net.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => net.close(() => resolve())));

  it('negotiates the window size', async () => {
    const d = await openDeviceStream({ protocol: 'telnet', host: '127.0.0.1', port, hostKey: trustAny(), timeoutMs: 2_000 });
    d.stream.subscribe({ data: () => undefined, close: () => undefined });
    for (let i = 0; i < 50 && Buffer.concat(replies).length < 13; i++) await new Promise((r) => setTimeout(r, 10));
    expect([...Buffer.concat(replies)]).toEqual([IAC, WILL, OPTION.NAWS, IAC, SB, OPTION.NAWS, 0x01, 0xff, 0xff, 0x02, 0x00, IAC, SE]);
    await d.close();
  });
});
