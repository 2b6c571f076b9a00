import { isResetError, OutcomeUnknownError, type ResetError } from '../engine/errors.js';

/** The target's words for a message: trimmed, one line, bounded. Redacted again at the adapter's boundary. */
export function said(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(t.length > 300 ? `${t.slice(0, 300)}...` : t);
}

/** An error of ours or of a library, at a point an adapter cannot place: the engine must reconcile. */
export function asResetError(e: unknown): ResetError {
  if (isResetError(e)) return e;
  return new OutcomeUnknownError(`unexpected failure: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}
