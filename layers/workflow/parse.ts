import type { z } from 'zod';
import { InvalidConfigurationError, ResetError, ThrottledError } from '../engine/errors.js';

/**
 * Parses a payload with its schema; the first problem becomes an InvalidConfigurationError
 * naming the field (`selector.types.0`), the 400-style error every entry point returns.
 */
export function parsePayload<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  // An unknown key is reported on its parent; name the key itself.
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  const field = path.map(String).join('.') || what;
  throw new InvalidConfigurationError(field, issue.message, { cause: parsed.error });
}

/**
 * The error as the caller (the state machine, Secrets Manager) sees it: the engine's errors as
 * they are; an AWS service asking us to slow down as ThrottledError, so it is retried with backoff.
 */
export function forCaller(e: unknown): Error {
  if (e instanceof ResetError) return e;
  if (e instanceof Error) {
    const retryable = (e as { $retryable?: { throttling?: boolean } }).$retryable;
    if (retryable?.throttling || /Throttl|TooManyRequests|ProvisionedThroughputExceeded|RequestLimitExceeded/.test(e.name)) {
      return new ThrottledError(`${e.name}: ${e.message}`, { cause: e });
    }
    return e;
  }
  return new Error(String(e));
}
