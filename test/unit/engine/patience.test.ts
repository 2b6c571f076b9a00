import { describe, expect, it } from 'vitest';
import { StoreThrottledError } from '../../../layers/engine/errors.js';
import { patience, patientClient, patiently, withPatience } from '../../../layers/engine/patience.js';

/** An error as the AWS SDK throws it for an answer the service gave (name, fault side, HTTP status). */
function serviceError(name: string, status: number): Error {
  return Object.assign(new Error(`${name}: from the service`), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}
const throttle = () => serviceError('ThrottlingException', 400);

/** A call that fails with the given errors, one per attempt, then answers `ok`. */
function failing(errors: Error[]): { call: () => Promise<string>; attempts: () => number } {
  let n = 0;
  return {
    call: async () => {
      const e = errors[n++];
      if (e) throw e;
      return 'ok';
    },
    attempts: () => n,
  };
}

describe('patiently: AWS calls retried for as long as the account may wait', () => {
  it('retries a throttled call until it is answered, and counts the throttles in the account\'s patience', async () => {
    const p = patience(Date.now() + 30_000);
    const f = failing([throttle(), throttle(), throttle()]);

    const out = await withPatience(p, () => patiently(f.call));

    expect(out).toBe('ok');
    expect(f.attempts()).toBe(4);
    expect(p.throttled).toBe(3);
  });

  it('gives up on a call still throttled at the account\'s deadline with StoreThrottledError, the throttle as its cause', async () => {
    const p = patience(Date.now() + 300);
    const f = failing(Array.from({ length: 1000 }, throttle));

    const e = await withPatience(p, () => patiently(f.call)).catch((x: unknown) => x);

    expect(e).toBeInstanceOf(StoreThrottledError);
    expect((e as Error).name).toBe('StoreThrottledError');
    expect((e as Error).message).toMatch(/ThrottlingException: still throttled after \d+ attempt/);
    expect(((e as Error).cause as Error).name).toBe('ThrottlingException');
    expect(f.attempts()).toBeGreaterThan(1);
    expect(f.attempts()).toBeLessThan(1000);
  });

  it('retries a dropped connection or a 5xx a few times only, then throws it as it came', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const f = failing([serviceError('InternalFailure', 500), reset, reset, reset, reset, reset]);

    const e = await withPatience(patience(Date.now() + 30_000), () => patiently(f.call)).catch((x: unknown) => x);

    expect(e).toBe(reset);
    expect(f.attempts()).toBe(5);
  });

  it('throws any other error at once: a refused condition is an answer, not a hiccup', async () => {
    const refused = serviceError('ConditionalCheckFailedException', 400);
    const f = failing([refused]);

    await expect(withPatience(patience(Date.now() + 30_000), () => patiently(f.call))).rejects.toBe(refused);
    expect(f.attempts()).toBe(1);
  });

  it('runs beforeAttempt before every attempt, with the deadline (where the write budget takes its slot)', async () => {
    const deadline = Date.now() + 30_000;
    const seen: number[] = [];
    const f = failing([throttle(), throttle()]);

    await withPatience(patience(deadline), () => patiently(f.call, { beforeAttempt: async (d) => void seen.push(d) }));

    expect(seen).toEqual([deadline, deadline, deadline]);
  });

  it('patientClient: every send is patient, and beforeAttempt sees the command; outside an account, the default patience holds', async () => {
    const sent: string[] = [];
    const f = failing([throttle()]);
    const client = { send: async (command: { name: string }) => (sent.push(command.name), f.call()) };
    const before: string[] = [];

    const patient = patientClient(client, async (command) => void before.push(command.name));

    expect(await patient.send({ name: 'PutSecretValue' })).toBe('ok');
    expect(sent).toEqual(['PutSecretValue', 'PutSecretValue']);
    expect(before).toEqual(['PutSecretValue', 'PutSecretValue']);
  });

  it('keeps the patience of each account apart when their calls interleave', async () => {
    const a = patience(Date.now() + 30_000);
    const b = patience(Date.now() + 30_000);
    const fa = failing([throttle(), throttle()]);
    const fb = failing([throttle()]);

    await Promise.all([withPatience(a, () => patiently(fa.call)), withPatience(b, () => patiently(fb.call))]);

    expect([a.throttled, b.throttled]).toEqual([2, 1]);
  });
});
