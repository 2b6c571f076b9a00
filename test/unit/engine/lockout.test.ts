import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../../../layers/engine/errors.js';
import { assertProbeAffordable, lockoutReserve, probesLeft } from '../../../layers/engine/lockout.js';

describe("the protocol's lockout budget", () => {
  it('keeps a reserve: 2 (or a fifth of a large threshold), 1 for thresholds of 1 and 2', () => {
    expect([1, 2, 3, 5, 10, 11, 50].map(lockoutReserve)).toEqual([1, 1, 2, 2, 2, 3, 10]);
    // With a threshold of 5: failing probes stop at 3, two before the lockout.
    expect([0, 1, 2, 3, 4].map((n) => probesLeft(5, n))).toEqual([3, 2, 1, 0, 0]);
    expect(probesLeft(1, 0)).toBe(0);
    expect(probesLeft(2, 0)).toBe(1);
    expect(probesLeft(0, 1000)).toBe(Number.POSITIVE_INFINITY);
  });

  it("refuses a probe it cannot afford with a ThrottledError that says why, with the target's own detail; a locked account is never probed", () => {
    expect(() => assertProbeAffordable(undefined, 'probe')).not.toThrow();
    expect(() => assertProbeAffordable({ threshold: 5, failedLogons: 2 }, 'probe')).not.toThrow();
    const refused = () => assertProbeAffordable({ threshold: 5, failedLogons: 3, detail: 'counted by the target' }, 'checking the password of jdoe');
    expect(refused).toThrow(ThrottledError);
    expect(refused).toThrow(/^checking the password of jdoe: not attempted, .* 3 failed logons of a threshold of 5, .* 2 would remain .*unknown \(counted by the target\)$/);
    expect(() => assertProbeAffordable({ threshold: 0, failedLogons: 0, lockedOut: true }, 'probe')).toThrow(/locked out/);
  });
});
