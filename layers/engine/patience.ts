import { AsyncLocalStorage } from 'node:async_hooks';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { StoreThrottledError, ThrottledError } from './errors.js';

/**
 * How long the AWS calls made for one account may keep retrying, and what they met. The engine
 * runs each account's reset inside `withPatience`; the stores' clients, wrapped by
 * `patientClient`, read it from there, so every call of that account (in the engine, the
 * protocol or a store) shares one deadline and one tally without being handed them.
 */
export interface Patience {
  /** Epoch ms: a throttled call is not tried again after it. */
  readonly deadline: number;
  /** Throttled responses met (each was retried, or ended the wait at the deadline). */
  throttled: number;
}

/** Outside an account's patience (configuration commands, a group's own reads): this long. */
export const DEFAULT_PATIENCE_MS = 5 * 60_000;
/** A call that failed for another transient reason (network, 5xx) is tried this many times in all. */
const TRANSIENT_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 5_000;

const current = new AsyncLocalStorage<Patience>();

export function withPatience<T>(patience: Patience, fn: () => Promise<T>): Promise<T> {
  return current.run(patience, fn);
}

export function patience(deadline: number): Patience {
  return { deadline, throttled: 0 };
}

/** The patience of the account whose work is running, if any. */
function currentPatience(): Patience | undefined {
  return current.getStore();
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): uniform in [0, min(cap, base·2^n)). */
function backoff(attempt: number): number {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface PatientOptions {
  /** Called before every attempt with the deadline: the write budget waits here for its slot. */
  readonly beforeAttempt?: (deadline: number) => Promise<void>;
}

/**
 * Calls `call` until it succeeds or fails for good. A throttled call is retried with full-jitter
 * backoff for as long as the current patience allows, then ends with StoreThrottledError; a
 * call that failed for another transient reason (a dropped connection, a 5xx) is retried a few
 * times; anything else is thrown at once. Only idempotent calls may pass through here: a write
 * is repeated when its first answer was lost.
 */
export async function patiently<T>(call: () => Promise<T>, options: PatientOptions = {}): Promise<T> {
  const p = currentPatience() ?? patience(Date.now() + DEFAULT_PATIENCE_MS);
  let transient = 0;
  for (let attempt = 0; ; attempt++) {
    await options.beforeAttempt?.(p.deadline);
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      const err = e as Parameters<typeof isThrottlingError>[0];
      if (isThrottlingError(err)) {
        p.throttled++;
        const left = p.deadline - Date.now();
        if (left <= 0) {
          throw new StoreThrottledError(`${e.name}: still throttled after ${attempt + 1} attempt(s), and the account's time is up`, { cause: e });
        }
        // The last wait ends at the deadline, for one more try there.
        await sleep(Math.min(backoff(attempt), left));
        continue;
      }
      if ((isTransientError(err) || isServerError(err)) && ++transient < TRANSIENT_ATTEMPTS && Date.now() < p.deadline) {
        await sleep(backoff(attempt));
        continue;
      }
      throw e;
    }
  }
}

/**
 * The client with every `send` made patient. `beforeAttempt(command, deadline)` runs before each
 * attempt of a command (the write budget takes its slot there, so a retry pays for itself too).
 */
export function patientClient<C extends { send(command: never): Promise<unknown> }>(
  client: C,
  beforeAttempt?: (command: Parameters<C['send']>[0], deadline: number) => Promise<void>,
): Pick<C, 'send'> {
  const send = (command: Parameters<C['send']>[0]) =>
    patiently(() => client.send(command as never), beforeAttempt ? { beforeAttempt: (deadline) => beforeAttempt(command, deadline) } : {});
  return { send } as Pick<C, 'send'>;
}

/** Provider throttles one call waits out, at most, before its ThrottledError is the account's (the account's deadline usually ends it first). */
const PROVIDER_THROTTLE_ATTEMPTS = 40;

/**
 * Runs a provider call (an API that answered "slow down" changed nothing: ThrottledError) again
 * after the wait the provider asked for (its Retry-After, else full-jitter backoff), for as long
 * as the current account's patience allows. The last ThrottledError is thrown when the next wait
 * would end past the deadline, or after PROVIDER_THROTTLE_ATTEMPTS. Only calls whose throttled
 * answer means "not done" may pass through here, which is what a ThrottledError says.
 */
export async function waitingOutThrottles<T>(call: () => Promise<T>): Promise<T> {
  const p = currentPatience() ?? patience(Date.now() + DEFAULT_PATIENCE_MS);
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof ThrottledError) || e instanceof StoreThrottledError) throw e;
      p.throttled++;
      // Jitter on top of the provider's wait, so accounts throttled together do not come back together.
      const wait = e.retryAfterMs === undefined ? backoff(attempt + 3) : e.retryAfterMs + Math.random() * Math.max(500, e.retryAfterMs / 2);
      if (attempt + 1 >= PROVIDER_THROTTLE_ATTEMPTS || Date.now() + wait >= p.deadline) throw e;
      await sleep(wait);
    }
  }
}
