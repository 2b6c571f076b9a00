import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, InvalidConfigurationError, OutcomeUnknownError, TargetTimeoutError, TargetUnchangedError, ThrottledError } from '../../../../layers/engine/errors.js';
import { patience, withPatience } from '../../../../layers/engine/patience.js';
import { call, retryAfterMs, type CallOptions } from '../../../../layers/resources/cloud/https.js';
import { testCertificates } from '../../../../harness/support/https-certificates.js';
import { requestsContaining, startHttpsSimulator, type HttpsSimulator } from '../../../simulators/https/server.js';

let sim: HttpsSimulator;
const state = { value: 'old' };

beforeAll(async () => {
  sim = await startHttpsSimulator((req) => {
    if (req.headers.authorization !== 'Bearer good') return { status: 401, json: { error: 'invalid_token' } };
    if (req.path === '/denied') return { status: 403, json: { error: 'Authorization_RequestDenied' } };
    if (req.path === '/value' && req.method === 'GET') return { status: 200, json: { value: state.value } };
    if (req.path === '/value' && req.method === 'PUT') {
      const v = req.json<{ value?: string }>()?.value ?? '';
      if (v.length < 8) return { status: 400, json: { error: { code: 'PasswordTooShort', message: 'at least 8 characters' } } };
      state.value = v;
      return { status: 204 };
    }
    if (req.path === '/unavailable') return { status: 503, json: { error: 'down' } };
    return { status: 404, json: { error: 'no such thing' } };
  });
});
afterAll(() => sim?.stop());

const base = (over: Partial<CallOptions> = {}): CallOptions => ({
  method: 'PUT',
  url: `${sim.origin}/value`,
  what: 'test PUT /value',
  effect: 'change',
  timeoutMs: 2_000,
  headers: { authorization: 'Bearer good' },
  refusal: (a) => (a.status === 400 ? a.text : undefined),
  ...over,
});

describe('the cloud adapters’ HTTPS call against the simulator core', () => {
  it('sets the value over TLS verified against the test CA, with the value only in the body', async () => {
    await call(base({ json: { value: 'Fresh-value-1' } }));
    expect(state.value).toBe('Fresh-value-1');
    const read = await call(base({ method: 'GET', effect: 'read' }));
    expect(JSON.parse(read.text)).toEqual({ value: 'Fresh-value-1' });
    expect(requestsContaining(sim.requests, 'Fresh-value-1', { bodies: false })).toEqual([]);
    expect(requestsContaining(sim.requests, 'Fresh-value-1')).toHaveLength(1);
  });

  it('classifies the provider’s answers: refusal unchanged, 401 and 403 authentication, 429 and 503+Retry-After throttled, other 5xx after a change unknown', async () => {
    await expect(call(base({ json: { value: 'short' } }))).rejects.toThrow(TargetUnchangedError);
    await expect(call(base({ json: { value: 'short' } }))).rejects.toThrow(/PasswordTooShort/);
    await expect(call(base({ headers: { authorization: 'Bearer bad' }, json: { value: 'Another-value-2' } }))).rejects.toThrow(AuthenticationError);
    await expect(call(base({ url: `${sim.origin}/denied`, json: {} }))).rejects.toThrow(/HTTP 403/);
    sim.setFaults({ throttle: { count: 1, retryAfterSeconds: 7 } });
    const throttled = await call(base({ json: { value: 'Another-value-2' }, waitOutThrottles: false })).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(ThrottledError);
    expect(String(throttled)).toMatch(/retry after 7 s/);
    expect((throttled as ThrottledError).retryAfterMs).toBe(7_000);
    expect(state.value).toBe('Fresh-value-1');
    sim.setFaults({ throttle: { count: 1, status: 503, retryAfterSeconds: 2 } });
    await expect(call(base({ json: { value: 'Another-value-2' }, waitOutThrottles: false }))).rejects.toThrow(ThrottledError);
    sim.setFaults({});
    await expect(call(base({ url: `${sim.origin}/unavailable`, json: {} }))).rejects.toThrow(OutcomeUnknownError);
    await expect(call(base({ url: `${sim.origin}/unavailable`, method: 'GET', effect: 'read' }))).rejects.toThrow(TargetUnchangedError);
    await expect(call(base({ url: `${sim.origin}/missing`, json: {} }))).rejects.toThrow(TargetUnchangedError);
  });

  it('reads a status the adapter names as throttling (Rackspace’s 413) as throttled, and returns the statuses the caller reads itself', async () => {
    const overLimit = await call(base({ url: `${sim.origin}/unavailable`, json: {}, throttled: (a) => a.status === 503, waitOutThrottles: false })).catch((e: unknown) => e);
    expect(overLimit).toBeInstanceOf(ThrottledError);
    expect((overLimit as ThrottledError).retryAfterMs).toBeUndefined();
    const refused = await call(base({ headers: { authorization: 'Bearer bad' }, method: 'GET', effect: 'read', answered: [401] }));
    expect(refused.status).toBe(401);
    expect(refused.text).toMatch(/invalid_token/);
    // Only the statuses named: a 403 is still thrown.
    await expect(call(base({ url: `${sim.origin}/denied`, method: 'GET', effect: 'read', answered: [401] }))).rejects.toThrow(AuthenticationError);
  });

  it('waits out the provider’s Retry-After within the account’s time, and throws the throttle when the wait would not fit', async () => {
    sim.setFaults({ throttle: { count: 2, retryAfterSeconds: 1 } });
    const p = patience(Date.now() + 10_000);
    const started = Date.now();
    await withPatience(p, () => call(base({ json: { value: 'Patient-value-3' } })));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(state.value).toBe('Patient-value-3');
    expect(p.throttled).toBe(2);
    sim.setFaults({ throttle: { count: 1, retryAfterSeconds: 30 } });
    await expect(withPatience(patience(Date.now() + 5_000), () => call(base({ json: { value: 'Impatient-value-4' } })))).rejects.toThrow(ThrottledError);
    expect(state.value).toBe('Patient-value-3');
    sim.setFaults({});
  });

  it('a connection cut after the provider acted is unknown for a change and unchanged for a read', async () => {
    sim.setFaults({ cut: { when: 'after', match: (r) => r.method === 'PUT' } });
    await expect(call(base({ json: { value: 'Cut-value-33' } }))).rejects.toThrow(OutcomeUnknownError);
    expect(state.value).toBe('Cut-value-33');
    sim.setFaults({ cut: { when: 'before', match: (r) => r.method === 'GET' } });
    await expect(call(base({ method: 'GET', effect: 'read' }))).rejects.toThrow(TargetUnchangedError);
    sim.setFaults({});
  });

  it('a slow answer is unknown for a change and a timeout for a read', async () => {
    sim.setFaults({ delayMs: 400 });
    await expect(call(base({ json: { value: 'Slow-value-44' }, timeoutMs: 100 }))).rejects.toThrow(OutcomeUnknownError);
    await expect(call(base({ method: 'GET', effect: 'read', timeoutMs: 100 }))).rejects.toThrow(TargetTimeoutError);
    sim.setFaults({});
  });

  it('refuses before sending: a URL holding a password, plain HTTP, nothing listening, an untrusted certificate', async () => {
    const before = sim.requests.length;
    await expect(call(base({ url: `${sim.origin}/users/${encodeURIComponent('Pass word/1')}`, secrets: ['Pass word/1'] }))).rejects.toThrow(InvalidConfigurationError);
    await expect(call(base({ url: `http://127.0.0.1:${sim.port}/value` }))).rejects.toThrow(/only HTTPS/);
    expect(sim.requests.length).toBe(before);
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((ok) => closed.close(ok));
    await expect(call(base({ url: `https://127.0.0.1:${closedPort}/value`, json: { value: 'Never-sent-55' } }))).rejects.toThrow(TargetUnchangedError);

    const dir = mkdtempSync(join(tmpdir(), 'rpr-untrusted-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' });
    let reached = 0;
    const rogue = createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_req, res) => {
      reached++;
      res.end();
    });
    await new Promise<void>((ok) => rogue.listen(0, '127.0.0.1', ok));
    try {
      const e = await call(base({ url: `https://127.0.0.1:${(rogue.address() as AddressInfo).port}/value`, json: { value: 'Never-sent-55' } })).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TargetUnchangedError);
      expect(String(e)).toMatch(/not trusted/);
      expect(reached).toBe(0);
    } finally {
      rogue.close();
    }
  });

  it('the simulator core answers a second, independent client (curl verifying the test CA)', async () => {
    const { stdout: out } = await promisify(execFile)('curl', ['-sS', '--max-time', '10', '--cacert', testCertificates().caFile, '-H', 'authorization: Bearer good', `${sim.origin}/value`], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ value: state.value });
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMs('12')).toBe(12_000);
    expect(retryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
