import type { Secret } from './secret.js';

export const REDACTED = '[REDACTED]';

/**
 * Replaces every known secret in text, also in the forms a secret takes when it is
 * serialized or sent over a protocol (JSON-escaped, URL-encoded, base64, with
 * Telnet's IAC doubling). Built from every secret of one invocation.
 */
export class Redactor {
  #needles: string[] = [];
  #seen = new Set<string>();
  /** Secrets typed into an echoing terminal, redacted also in part (see `withFragments`). */
  #fragments: string[] = [];

  constructor(secrets: Iterable<Secret | string> = []) {
    for (const s of secrets) this.add(s);
  }

  add(secret: Secret | string | undefined): this {
    if (secret === undefined) return this;
    const value = typeof secret === 'string' ? secret : secret.reveal();
    // Very short values would redact ordinary text and hide nothing of worth.
    if (value.length < 4 || this.#seen.has(value)) return this;
    this.#seen.add(value);
    const forms = new Set([
      value,
      JSON.stringify(value).slice(1, -1),
      encodeURIComponent(value),
      Buffer.from(value, 'utf8').toString('base64'),
      value.replace(/\xff/g, '\xff\xff'),
    ]);
    for (const f of forms) if (f.length >= 4) this.#needles.push(f);
    // Longest first, so a secret containing another is replaced whole.
    this.#needles.sort((a, b) => b.length - a.length);
    return this;
  }

  /** A redactor that knows this one's secrets and more. */
  with(...secrets: (Secret | string | undefined)[]): Redactor {
    const r = new Redactor();
    r.#needles = [...this.#needles];
    r.#seen = new Set(this.#seen);
    r.#fragments = [...this.#fragments];
    for (const s of secrets) r.add(s);
    return r;
  }

  /**
   * A redactor that also hides parts of these secrets, for text a terminal echoed as they were
   * typed (a device echoes `username x secret PASSWORD`, may echo only part of it, or insert a
   * line wrap, backspaces or escape sequences inside it). The fragment rule: every run of
   * FRAGMENT_MIN (4) or more consecutive characters of such a secret is redacted, and a secret
   * shorter than that wherever it occurs whole. Characters a terminal inserts (C0 controls, DEL,
   * ANSI escape sequences) are skipped when matching, so "Abc\r\ndefg" hides "Abcdefg" whole.
   * Runs of 3 characters or fewer of a longer secret may remain: they cannot be told from ordinary
   * text. The price is that ordinary text sharing 4 characters with such a secret is hidden too.
   */
  withFragments(...secrets: (Secret | string | undefined)[]): Redactor {
    const r = this.with(...secrets);
    for (const s of secrets) {
      if (s === undefined) continue;
      const value = typeof s === 'string' ? s : s.reveal();
      if (value.length > 0 && !r.#fragments.includes(value)) r.#fragments.push(value);
    }
    return r;
  }

  redact(text: string): string {
    let out = text;
    for (const n of this.#needles) if (out.includes(n)) out = out.split(n).join(REDACTED);
    if (this.#fragments.length) out = redactFragments(out, this.#fragments);
    return out;
  }

  /** Redacts every string inside a JSON-like value; errors become plain objects. */
  redactDeep<T>(value: T): T {
    return this.#deep(value, new WeakSet()) as T;
  }

  #deep(value: unknown, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[circular]';
    seen.add(value);
    if (value instanceof Error) {
      return { name: value.name, message: this.redact(value.message), ...(value.cause ? { cause: this.#deep(value.cause, seen) } : {}) };
    }
    if (Array.isArray(value)) return value.map((v) => this.#deep(v, seen));
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return this.#deep((value as { toJSON(): unknown }).toJSON(), seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.#deep(v, seen);
    return out;
  }

  /**
   * A redacted copy of an error: the same class and own fields (a ResetError's `field`), its
   * message, stack and causes redacted. The original is left untouched. A non-error becomes an Error.
   */
  redactedCopy(e: unknown): Error {
    if (!(e instanceof Error)) return new Error(this.redact(String(e)));
    // A DOMException (fetch's TimeoutError and AbortError) keeps name and message in internal
    // slots that a copy made with Object.create lacks: reading them, as util.inspect does, throws.
    if (typeof DOMException !== 'undefined' && e instanceof DOMException) {
      const copy = new Error(this.redact(e.message));
      copy.name = e.name;
      return copy;
    }
    const copy = Object.create(Object.getPrototypeOf(e) as object) as Error;
    for (const key of Object.getOwnPropertyNames(e)) {
      const value = (e as unknown as Record<string, unknown>)[key];
      const redacted = key === 'cause' ? (value instanceof Error ? this.redactedCopy(value) : this.redactDeep(value)) : this.redactDeep(value);
      Object.defineProperty(copy, key, { value: redacted, writable: true, configurable: true, enumerable: Object.prototype.propertyIsEnumerable.call(e, key) });
    }
    return copy;
  }

  /** The same error, with its message (and its causes' messages) redacted. Keeps the class. */
  redactError<E>(e: E): E {
    if (!(e instanceof Error)) return new Error(this.redact(String(e))) as E;
    e.message = this.redact(e.message);
    if (e.stack) e.stack = this.redact(e.stack);
    if (e.cause instanceof Error) this.redactError(e.cause);
    else if (e.cause !== undefined) e.cause = this.redactDeep(e.cause);
    return e;
  }
}

/** Shortest run of an echoed secret's characters that is redacted (see Redactor.withFragments). */
export const FRAGMENT_MIN = 4;

/** Terminal noise inside an echo: an ANSI escape sequence, or one C0 control or DEL. */
// eslint-disable-next-line no-control-regex
const NOISE = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x1f\x7f]/g;

function redactFragments(text: string, secrets: readonly string[]): string {
  // The text without noise, and where each of its characters came from.
  let clean = '';
  const origin: number[] = [];
  let at = 0;
  const keep = (to: number) => {
    for (; at < to; at++) {
      clean += text[at];
      origin.push(at);
    }
  };
  for (const m of text.matchAll(NOISE)) {
    keep(m.index);
    at = m.index + m[0].length;
  }
  keep(text.length);
  // Covered ranges of the clean text, [from, to).
  const covered: [number, number][] = [];
  for (const secret of secrets) {
    const n = Math.min(FRAGMENT_MIN, secret.length);
    for (let i = 0; i + n <= secret.length; i++) {
      const gram = secret.slice(i, i + n);
      for (let j = clean.indexOf(gram); j !== -1; j = clean.indexOf(gram, j + 1)) covered.push([j, j + n]);
    }
  }
  if (!covered.length) return text;
  covered.sort((a, b) => a[0] - b[0]);
  let out = '';
  let from = 0;
  for (let k = 0; k < covered.length; ) {
    const start = covered[k]![0];
    let end = covered[k]![1];
    // Overlapping or touching runs are one: "[REDACTED]" once for the whole echo.
    while (++k < covered.length && covered[k]![0] <= end) end = Math.max(end, covered[k]![1]);
    const o0 = origin[start]!;
    const o1 = origin[end - 1]! + 1;
    out += text.slice(from, o0) + REDACTED;
    from = o1;
  }
  return out + text.slice(from);
}
