/** Plain-text tables and progress for people; `--json` output is for scripts. */

export function table(rows: Record<string, unknown>[], columns?: string[]): string {
  if (rows.length === 0) return '(none)';
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = cols.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  const line = (vals: string[]) => vals.map((v, i) => (v.length > widths[i]! ? v.slice(0, widths[i]! - 1) + '…' : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

/** Where progress goes: a terminal (process.stderr), or a test's fake. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  /** The terminal's width: the line is cut to it, so `\r` rewrites one line. */
  readonly columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** Default: standard error. */
  readonly stream?: ProgressStream;
  /** With --json nothing is written: the output is for a script. */
  readonly json?: boolean;
  /** At most this many accounts are worked on at once (the run's --concurrency); default: all left. */
  readonly concurrency?: number;
  /** Milliseconds, for the rate; default Date.now. */
  readonly now?: () => number;
}

/** The outcomes that are not failures: every other one is counted as failed. */
const GOOD_OUTCOMES: ReadonlySet<string> = new Set(['succeeded', 'in-sync']);

/**
 * A one-line progress counter on a terminal: accounts done of the total, how many failed (an outcome
 * other than succeeded or in-sync), how many are in flight (at most --concurrency of those left) and
 * the rate since it started, in accounts per second. Nothing when the stream is not a terminal, or
 * with --json. Rewritten at most every 100 ms, and on the last account; end() clears it.
 */
export function progress(o: ProgressOptions = {}): { update(done: number, total: number, account?: { outcome?: string; note?: string }): void; end(): void } {
  const stream = o.stream ?? process.stderr;
  const now = o.now ?? Date.now;
  const shown = stream.isTTY === true && !o.json;
  const started = now();
  let last = -Infinity;
  let failed = 0;
  return {
    update(done, total, account = {}) {
      if (account.outcome !== undefined && !GOOD_OUTCOMES.has(account.outcome)) failed++;
      if (!shown) return;
      const at = now();
      if (done < total && at - last < 100) return;
      last = at;
      const left = Math.max(0, total - done);
      const inFlight = o.concurrency === undefined ? left : Math.min(o.concurrency, left);
      const seconds = (at - started) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      let line = `${done}/${total} accounts  ${failed} failed  ${inFlight} in flight  ${rate.toFixed(1)}/s${account.note ? `  ${account.note}` : ''}`;
      if (stream.columns && line.length > stream.columns - 1) line = line.slice(0, Math.max(0, stream.columns - 2)) + '…';
      stream.write(`\r${line}\x1b[K`);
    },
    end() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}

/** One audit record as a table row. */
export const auditRow = (a: { at: string; accountId: string; runId: string; event: string; outcome?: string; versionId?: string; detail?: string }) => ({
  at: a.at,
  account: a.accountId,
  run: a.runId,
  outcome: a.outcome,
  version: a.versionId,
  detail: a.detail,
});
