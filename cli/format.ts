/** Plain-text tables and progress for people; `--json` output is for scripts. */

export function table(rows: Record<string, unknown>[], columns?: string[]): string {
  if (rows.length === 0) return '(none)';
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = cols.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  const line = (vals: string[]) => vals.map((v, i) => (v.length > widths[i]! ? v.slice(0, widths[i]! - 1) + '…' : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

/** A one-line progress counter on a terminal; nothing when output is not a terminal. */
export function progress(stream: NodeJS.WriteStream = process.stderr): { update(done: number, total: number, note?: string): void; end(): void } {
  const tty = stream.isTTY;
  let last = 0;
  return {
    update(done, total, note) {
      if (!tty) return;
      const now = Date.now();
      if (done < total && now - last < 100) return;
      last = now;
      stream.write(`\r${done}/${total} accounts${note ? `  ${note}` : ''}\x1b[K`);
    },
    end() {
      if (tty) stream.write('\r\x1b[K');
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
