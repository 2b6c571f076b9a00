import { describe, expect, it } from 'vitest';
import { DRIFT_TOLERANCE_MS, driftOf } from '../../../layers/engine/drift.js';

describe('drift: the target says when the password was last set; the store says when rpr last reset it', () => {
  const reset = new Date('2026-11-28T12:00:00.000Z');
  const at = (ms: number) => new Date(reset.getTime() + ms);

  it('is "changed outside rpr" only beyond the tolerance after the recorded reset', () => {
    expect(driftOf(at(DRIFT_TOLERANCE_MS + 1), reset).state).toBe('changed outside rpr');
    expect(driftOf(at(DRIFT_TOLERANCE_MS), reset).state).toBe('none');
    // The change happens before the reset is recorded; the DC's clock may also run a little behind.
    expect(driftOf(at(-2_000), reset)).toEqual({ state: 'none', passwordLastSet: at(-2_000).toISOString(), lastReset: reset.toISOString() });
  });

  it('is "unknown", saying why, when either time is missing', () => {
    expect(driftOf(undefined, reset)).toMatchObject({ state: 'unknown', reason: /does not say/ });
    expect(driftOf(at(0), undefined)).toMatchObject({ state: 'unknown', reason: /no successful reset/ });
  });
});
