import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostKeyTrust } from '../../../layers/engine/adapter.js';
import { HostKeyMismatchError, StoreThrottledError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { presentedHostKey, SshConnection, type SshHostKeyCheck } from '../../../layers/expect/ssh.js';
import { memoryHostKeys } from '../../../harness/support/adapter-context.js';
import { ed25519KeyPair } from '../../support/ssh-keys.js';

const PASSWORD = 'Host-key-test-pw-1';
const OTHER = Buffer.alloc(32, 0x42).toString('base64').replace(/=+$/, '');

/**
 * The host key check of every SSH login, on an in-process SSH server (ssh2's) that counts the
 * authentication requests it receives: a refused key must end the connection before the first.
 */
describe('SSH host key check before any credential is sent', () => {
  const keys = ed25519KeyPair();
  let server: InstanceType<typeof ssh2.Server>;
  let port: number;
  let authRequests = 0;

  beforeAll(async () => {
    server = new ssh2.Server({ hostKeys: [keys.private] }, (client) => {
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => {
        authRequests++;
        if (ctx.method === 'password' && ctx.password === PASSWORD) ctx.accept();
        else ctx.reject(['password']);
      });
      client.on('ready', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const login = async (hostKey: SshHostKeyCheck) => {
    const before = authRequests;
    try {
      const conn = await SshConnection.connect({ host: '127.0.0.1', port, username: 'u', password: new Secret(PASSWORD), hostKey, timeoutMs: 5_000 });
      await conn.close();
      return { error: undefined, authRequests: authRequests - before };
    } catch (e) {
      return { error: e, authRequests: authRequests - before };
    }
  };
  const check = (trust: HostKeyTrust, pinned?: string): SshHostKeyCheck => ({ resourceId: 'r1', trust, ...(pinned ? { pinned } : {}) });

  it('records the key on first use with its type and address, then logs in to the same key without recording again', async () => {
    const seen: unknown[] = [];
    const trust = memoryHostKeys();
    const recording: HostKeyTrust = { trusted: () => trust.trusted(), firstSeen: (fp, s) => (seen.push([fp, s]), trust.firstSeen(fp, s)) };

    expect((await login(check(recording))).error).toBeUndefined();
    expect((await login(check(recording))).error).toBeUndefined();

    expect(trust.recorded).toBe(keys.sha256);
    expect(seen).toEqual([[keys.sha256, { keyType: 'ssh-ed25519', at: `127.0.0.1:${port}` }]]);
  });

  it('refuses a key other than the recorded one with HostKeyMismatchError naming hostKeySha256 and both fingerprints, before any authentication', async () => {
    const r = await login(check(memoryHostKeys(OTHER)));

    expect(r.error).toBeInstanceOf(HostKeyMismatchError);
    const e = r.error as HostKeyMismatchError;
    expect(e.field).toBe('hostKeySha256');
    expect([e.trustedSha256, e.presentedSha256]).toEqual([OTHER, keys.sha256]);
    expect(e.message).toContain(`SHA256:${OTHER}`);
    expect(e.message).toContain(`SHA256:${keys.sha256}`);
    expect(e.message).toContain('rpr resource trust-host-key r1');
    expect(e.retryable).toBe(false);
    expect(r.authRequests).toBe(0);
  });

  it('refuses a first key when another group recorded a different one first', async () => {
    const lostRace: HostKeyTrust = { trusted: async () => undefined, firstSeen: async () => OTHER };
    const r = await login(check(lostRace));
    expect(r.error).toBeInstanceOf(HostKeyMismatchError);
    expect(r.authRequests).toBe(0);
  });

  it('checks a pinned key instead of the recorded one: a mismatch says "pinned" and points to the configuration; a match logs in and records nothing', async () => {
    const trust = memoryHostKeys(OTHER);
    const refused = await login(check(memoryHostKeys(), OTHER));
    expect(refused.error).toBeInstanceOf(HostKeyMismatchError);
    expect((refused.error as Error).message).toMatch(/not the pinned SHA256:.*change hostKeySha256/);
    expect(refused.authRequests).toBe(0);

    const fresh = memoryHostKeys();
    expect((await login(check(fresh, `${keys.sha256}=`))).error).toBeUndefined();
    expect(fresh.recorded).toBeUndefined();
    expect(trust.recorded).toBe(OTHER);
  });

  it('fails without authenticating when the recorded key cannot be read: the store\'s own error, or TargetUnchangedError', async () => {
    const throttled = await login(check({ trusted: () => Promise.reject(new StoreThrottledError('slow down')), firstSeen: () => Promise.reject(new Error('unused')) }));
    expect(throttled.error).toBeInstanceOf(StoreThrottledError);
    expect(throttled.authRequests).toBe(0);

    const broken = await login(check({ trusted: () => Promise.reject(new Error('table gone')), firstSeen: () => Promise.reject(new Error('unused')) }));
    expect(broken.error).toBeInstanceOf(TargetUnchangedError);
    expect((broken.error as Error).message).toMatch(/could not be checked: table gone/);
    expect(broken.authRequests).toBe(0);
  });

  it('reads the key a server presents without authenticating', async () => {
    const before = authRequests;
    expect(await presentedHostKey({ host: '127.0.0.1', port, timeoutMs: 5_000 })).toEqual({ sha256: keys.sha256, keyType: 'ssh-ed25519' });
    expect(authRequests - before).toBe(0);
  });
});
