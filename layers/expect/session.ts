import { StringDecoder } from 'node:string_decoder';
import { OutcomeUnknownError, TargetTimeoutError, TargetUnchangedError, type ResetError } from '../engine/errors.js';
import type { Log } from '../engine/log.js';
import { REDACTED, type Redactor } from '../engine/redact.js';
import type { Secret } from '../engine/secret.js';
import type { CloseInfo, Stream } from './stream.js';

export const DEFAULT_MAX_BUFFER_BYTES = 64 * 1024;
/** Kept of the transcript; older text is dropped (after redaction, so no secret is cut in half and left). */
const TRANSCRIPT_KEEP = 16 * 1024;
/** Output quoted in error messages. */
const ERROR_TAIL = 400;

export type ExpectFailureReason = 'timeout' | 'closed' | 'overflow';

/** The cause attached to a session's errors: which way the wait failed. */
export class ExpectFailure extends Error {
  readonly reason: ExpectFailureReason;
  constructor(reason: ExpectFailureReason, message: string) {
    super(message);
    this.name = 'ExpectFailure';
    this.reason = reason;
  }
}

/** The reason of a session error, or undefined for any other error. */
export function expectFailureReason(e: unknown): ExpectFailureReason | undefined {
  return e instanceof Error && e.cause instanceof ExpectFailure ? e.cause.reason : undefined;
}

export interface ExpectMatch {
  /** Index of the pattern that matched. */
  readonly index: number;
  readonly match: RegExpExecArray;
  /** Output before the match (consumed with it). */
  readonly before: string;
}

export interface SessionOptions {
  /** Redacts transcripts and error messages; the session adds every secret it sends. */
  readonly redactor: Redactor;
  readonly log?: Log;
  /** Default deadline of one wait, in milliseconds. */
  readonly timeoutMs: number;
  /** Output held while nothing matches; more is an error. */
  readonly maxBufferBytes?: number;
  /** Names the stream in messages ("SSH exec", "Telnet shell"). */
  readonly name?: string;
  /**
   * The target echoes what is typed (a device CLI): every secret sent is also redacted in part,
   * by the fragment rule of `Redactor.withFragments`. Off by default: a shell whose echo is
   * switched off needs only the whole-secret redaction.
   */
  readonly echoFragments?: boolean;
}

interface Waiter {
  readonly patterns: readonly RegExp[] | 'close';
  readonly describe: string;
  readonly resolve: (value: ExpectMatch | CloseResult) => void;
  readonly reject: (e: ResetError) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface CloseResult {
  readonly info: CloseInfo;
  /** Output received since the last match. */
  readonly output: string;
}

/**
 * A bounded, timed, settle-once send/expect loop over a Stream.
 *
 * Output is decoded as UTF-8 into a buffer that each `expect` reads until a pattern
 * matches (and consumes through the match), before a deadline. One wait at a time; each
 * wait resolves or rejects exactly once and leaves no timer behind. Failures are the
 * engine's error classes: before `markChangeSent()` a timeout is TargetTimeoutError and a
 * close or overflow TargetUnchangedError; after it, every failure is OutcomeUnknownError.
 */
export class ExpectSession {
  readonly #stream: Stream;
  readonly #log: Log | undefined;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #name: string;
  readonly #echoFragments: boolean;
  readonly #decoder = new StringDecoder('utf8');
  #redactor: Redactor;
  #buffer = '';
  #bufferBytes = 0;
  #transcript = '';
  #waiter: Waiter | undefined;
  #closed: CloseInfo | undefined;
  #failure: ExpectFailure | undefined;
  #changeSent = false;

  constructor(stream: Stream, options: SessionOptions) {
    this.#stream = stream;
    this.#redactor = options.redactor;
    this.#log = options.log;
    this.#timeoutMs = options.timeoutMs;
    this.#maxBytes = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
    this.#name = options.name ?? 'stream';
    this.#echoFragments = options.echoFragments ?? false;
    stream.subscribe({ data: (chunk) => this.#onData(chunk), close: (info) => this.#onClose(info) });
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  get changeSent(): boolean {
    return this.#changeSent;
  }

  /**
   * From now on the target may have changed: any failure is OutcomeUnknownError.
   * A session that outlives one change (a shell reused for many accounts) clears it with `false`
   * once that change's outcome is known.
   */
  markChangeSent(sent = true): void {
    this.#changeSent = sent;
  }

  /** An error of the session's classification (by reason and whether the change was sent), for callers that detect a failure themselves. */
  failure(reason: ExpectFailureReason, message: string): ResetError {
    return this.#error(reason, message);
  }

  /**
   * Reads until one of the patterns matches the buffered output. The first pattern in list
   * order that matches wins (not the earliest match in the text): anchor prompts with `$`.
   */
  expect(patterns: readonly RegExp[], options: { timeoutMs?: number } = {}): Promise<ExpectMatch> {
    const compiled = patterns.map((p) => new RegExp(p.source, p.flags.replace(/[gy]/g, '')));
    return this.#wait(compiled, patterns.map(String).join(' | '), options.timeoutMs) as Promise<ExpectMatch>;
  }

  /** Waits for the stream to end (the remote command to exit) and returns what it said. */
  expectClose(options: { timeoutMs?: number } = {}): Promise<CloseResult> {
    return this.#wait('close', 'the end of the stream', options.timeoutMs) as Promise<CloseResult>;
  }

  send(text: string): void {
    this.#record(`[sent ${JSON.stringify(text)}]`);
    this.#log?.debug('expect: send', { stream: this.#name, text });
    this.#write(Buffer.from(text, 'utf8'));
  }

  /** Writes a secret (then `suffix`, e.g. "\n"); the transcript shows it as [REDACTED]. */
  sendSecret(secret: Secret, suffix = ''): void {
    this.#redactor = this.#echoFragments ? this.#redactor.withFragments(secret) : this.#redactor.with(secret);
    this.#record(`[sent ${REDACTED}${suffix ? ` + ${JSON.stringify(suffix)}` : ''}]`);
    this.#log?.debug('expect: send secret', { stream: this.#name });
    this.#write(Buffer.from(secret.reveal() + suffix, 'utf8'));
  }

  /** EOF on the remote side's input. */
  end(): void {
    if (!this.#closed) this.#stream.end();
  }

  close(): void {
    if (!this.#closed) this.#stream.close();
  }

  /** Everything sent and received (bounded), with every known secret redacted. */
  transcript(): string {
    return this.#redactor.redact(this.#transcript);
  }

  /** The redactor with the secrets this session has sent. */
  get redactor(): Redactor {
    return this.#redactor;
  }

  #write(bytes: Buffer): void {
    if (this.#closed) throw this.#error('closed', `cannot send: the ${this.#name} is closed`);
    this.#stream.write(bytes);
  }

  #wait(patterns: readonly RegExp[] | 'close', describe: string, timeoutMs = this.#timeoutMs): Promise<ExpectMatch | CloseResult> {
    if (this.#waiter) return Promise.reject(new Error('ExpectSession: one wait at a time'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { patterns, describe, resolve, reject, timer: undefined };
      this.#waiter = waiter;
      // A match or an end that arrived before the wait settles it at once.
      if (this.#settleFromState()) return;
      waiter.timer = setTimeout(() => {
        const e = this.#error('timeout', `no answer within ${timeoutMs} ms waiting for ${describe}`);
        this.#settle(waiter, () => reject(e));
      }, timeoutMs);
    });
  }

  /** Settles the waiter if the buffer, a failure or the close decides it. Returns whether it did. */
  #settleFromState(): boolean {
    const w = this.#waiter;
    if (!w) return false;
    if (w.patterns !== 'close') {
      for (let index = 0; index < w.patterns.length; index++) {
        const match = w.patterns[index]!.exec(this.#buffer);
        if (match) {
          const before = this.#buffer.slice(0, match.index);
          this.#consume(match.index + match[0].length);
          this.#log?.debug('expect: matched', { stream: this.#name, pattern: String(w.patterns[index]) });
          this.#settle(w, () => w.resolve({ index, match, before }));
          return true;
        }
      }
    }
    if (this.#failure) {
      this.#rejectWaiter(this.#error(this.#failure.reason, this.#failure.message));
      return true;
    }
    if (this.#closed) {
      if (w.patterns === 'close') {
        const output = this.#buffer;
        this.#consume(this.#buffer.length);
        const info = this.#closed;
        this.#settle(w, () => w.resolve({ info, output }));
      } else {
        const why = this.#closed.error ? ` (${this.#closed.error.message})` : '';
        this.#rejectWaiter(this.#error('closed', `the ${this.#name} closed${why} while waiting for ${w.describe}`));
      }
      return true;
    }
    return false;
  }

  #settle(w: Waiter, act: () => void): void {
    if (this.#waiter !== w) return;
    this.#waiter = undefined;
    if (w.timer) clearTimeout(w.timer);
    act();
  }

  #rejectWaiter(e: ResetError): void {
    const w = this.#waiter;
    if (w) this.#settle(w, () => w.reject(e));
  }

  #consume(chars: number): void {
    this.#buffer = this.#buffer.slice(chars);
    this.#bufferBytes = Buffer.byteLength(this.#buffer, 'utf8');
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    const text = this.#decoder.write(chunk);
    if (!text) return;
    this.#buffer += text;
    this.#bufferBytes += Buffer.byteLength(text, 'utf8');
    this.#record(text);
    this.#settleFromState();
    if (this.#bufferBytes > this.#maxBytes && !this.#failure) {
      this.#failure = new ExpectFailure('overflow', `more than ${this.#maxBytes} bytes of output without an expected pattern`);
      this.#settleFromState();
    }
  }

  #onClose(info: CloseInfo): void {
    if (this.#closed) return;
    const rest = this.#decoder.end();
    if (rest) {
      this.#buffer += rest;
      this.#record(rest);
    }
    this.#closed = info;
    this.#settleFromState();
  }

  #record(text: string): void {
    this.#transcript += text;
    if (this.#transcript.length > 2 * TRANSCRIPT_KEEP) {
      // Redact before cutting, so a secret is never cut in half and its tail kept.
      this.#transcript = this.#redactor.redact(this.#transcript).slice(-TRANSCRIPT_KEEP);
    }
  }

  #error(reason: ExpectFailureReason, message: string): ResetError {
    const tail = this.transcript().slice(-ERROR_TAIL);
    const text = this.#redactor.redact(`${this.#name}: ${message}; last output: ${JSON.stringify(tail)}`);
    const cause = new ExpectFailure(reason, this.#redactor.redact(message));
    if (this.#changeSent) return new OutcomeUnknownError(`${text} (after the change was sent: the outcome is unknown)`, { cause });
    if (reason === 'timeout') return new TargetTimeoutError(text, { cause });
    return new TargetUnchangedError(text, { cause });
  }
}
