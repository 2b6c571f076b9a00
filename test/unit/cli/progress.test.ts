import { describe, expect, it } from 'vitest';
import { progress } from '../../../cli/format.js';

/** A terminal that records what is written, and a clock the test moves. */
function fakes(isTTY = true) {
  const writes: string[] = [];
  let t = 1_000;
  return { stream: { isTTY, write: (s: string) => void writes.push(s) }, writes, now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('progress', () => {
  it('shows done of total, failed, in flight and the rate since it started, and clears the line at the end', () => {
    const f = fakes();
    const bar = progress({ stream: f.stream, concurrency: 4, now: f.now });
    f.advance(2_000);
    bar.update(1, 10, { outcome: 'succeeded', note: 'db1/app: succeeded' });
    expect(f.writes.at(-1)).toBe('\r1/10 accounts  0 failed  4 in flight  0.5/s  db1/app: succeeded\x1b[K');
    f.advance(2_000);
    bar.update(2, 10, { outcome: 'failed' });
    expect(f.writes.at(-1)).toBe('\r2/10 accounts  1 failed  4 in flight  0.5/s\x1b[K');
    f.advance(1_000);
    for (const [done, outcome] of [[3, 'in-sync'], [4, 'drifted'], [5, 'succeeded'], [6, 'succeeded'], [7, 'succeeded'], [8, 'succeeded']] as const) bar.update(done, 10, { outcome });
    // Within 100 ms of the last line only the count moves; the next line has every failure.
    expect(f.writes).toHaveLength(3);
    f.advance(5_000);
    bar.update(9, 10, { outcome: 'succeeded' });
    expect(f.writes.at(-1)).toBe('\r9/10 accounts  2 failed  1 in flight  0.9/s\x1b[K');
    bar.update(10, 10, { outcome: 'succeeded' });
    // The last account is always shown, however soon after.
    expect(f.writes.at(-1)).toBe('\r10/10 accounts  2 failed  0 in flight  1.0/s\x1b[K');
    bar.end();
    expect(f.writes.at(-1)).toBe('\r\x1b[K');
  });

  it('without a concurrency, every account left is in flight; a narrow terminal gets the line cut to its width', () => {
    const f = fakes();
    const bar = progress({ stream: { ...f.stream, columns: 30 }, now: f.now });
    bar.update(1, 5, { outcome: 'succeeded', note: 'a-very-long-account-id: succeeded' });
    const written = f.writes[0]!;
    expect(written.startsWith('\r') && written.endsWith('\x1b[K')).toBe(true);
    const line = written.slice(1, -'\x1b[K'.length);
    expect(line).toBe('1/5 accounts  0 failed  4 in…');
    expect(line.length).toBeLessThan(30);
  });

  it('writes nothing when the stream is not a terminal, or with --json', () => {
    for (const [isTTY, json] of [[false, false], [true, true], [false, true]] as const) {
      const f = fakes(isTTY);
      const bar = progress({ stream: f.stream, json, concurrency: 2, now: f.now });
      bar.update(1, 2, { outcome: 'failed', note: 'x' });
      bar.update(2, 2, { outcome: 'succeeded' });
      bar.end();
      expect(f.writes, `isTTY ${isTTY}, json ${json}`).toEqual([]);
    }
  });
});
