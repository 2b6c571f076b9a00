import { describe, expect, it } from 'vitest';
import { resetRightIn, sidToString } from '../../../../layers/resources/windows-domain/rights.js';
import { resourcePolicyProblem, type DomainPolicy } from '../../../../layers/resources/windows-domain/policy.js';

/** A SID in its binary form ([MS-DTYP] 2.4.2.2). */
function sid(text: string): Buffer {
  const [, rev, auth, ...subs] = text.split('-').map(Number);
  const b = Buffer.alloc(8 + 4 * subs.length);
  b[0] = rev!;
  b[1] = subs.length;
  b.writeUIntBE(auth!, 2, 6);
  subs.forEach((s, i) => b.writeUInt32LE(s, 8 + 4 * i));
  return b;
}

/** A GUID in its binary form (first three fields little-endian). */
function guid(text: string): Buffer {
  const h = text.replace(/-/g, '');
  const le = (s: string) => Buffer.from(s, 'hex').reverse();
  return Buffer.concat([le(h.slice(0, 8)), le(h.slice(8, 12)), le(h.slice(12, 16)), Buffer.from(h.slice(16), 'hex')]);
}

interface TestAce {
  deny?: boolean;
  mask: number;
  who: string;
  objectType?: string;
  inheritOnly?: boolean;
}

/** A self-relative security descriptor holding only a DACL of these ACEs. */
function descriptor(aces: TestAce[] | undefined): Buffer {
  const header = Buffer.alloc(20);
  header[0] = 1;
  if (!aces) return header;
  header.writeUInt32LE(20, 16);
  const bodies = aces.map((a) => {
    const object = a.objectType !== undefined;
    const parts = [Buffer.alloc(4), ...(object ? [Buffer.alloc(4), guid(a.objectType!)] : []), sid(a.who)];
    parts[0]!.writeUInt32LE(a.mask >>> 0);
    if (object) parts[1]!.writeUInt32LE(1);
    const body = Buffer.concat(parts);
    const head = Buffer.alloc(4);
    head[0] = (object ? 0x05 : 0x00) + (a.deny ? 1 : 0);
    head[1] = a.inheritOnly ? 0x08 : 0;
    head.writeUInt16LE(4 + body.length, 2);
    return Buffer.concat([head, body]);
  });
  const acl = Buffer.alloc(8);
  acl[0] = 4;
  acl.writeUInt16LE(8 + bodies.reduce((n, b) => n + b.length, 0), 2);
  acl.writeUInt16LE(aces.length, 4);
  return Buffer.concat([header, acl, ...bodies]);
}

const RESET = '00299570-246d-11d0-a768-00aa006e0529';
const OTHER_RIGHT = 'ab721a53-1e2f-11d0-9819-00aa0040529b'; // User-Change-Password
const ME = 'S-1-5-21-1-2-3-1105';
const GROUP = 'S-1-5-21-1-2-3-512';
const sids = new Set([ME, GROUP, 'S-1-1-0', 'S-1-5-11']);
const CR = 0x100;

describe('resetRightIn: the "Reset Password" right read from a DACL, as [MS-DTYP] 2.5.3.2 evaluates one right', () => {
  it('reads SIDs as their string form', () => {
    expect(sidToString(sid(ME))).toBe(ME);
  });

  it.each<[string, TestAce[] | undefined, 'allow' | 'deny' | undefined]>([
    ['the right itself, to one of the groups', [{ mask: CR, who: GROUP, objectType: RESET }], 'allow'],
    ['every control access right (no object type)', [{ mask: CR, who: ME }], 'allow'],
    ['full control (GENERIC_ALL) on an object ACE for another right', [{ mask: 0x10000000, who: ME, objectType: OTHER_RIGHT }], 'allow'],
    ['another control access right only', [{ mask: CR, who: ME, objectType: OTHER_RIGHT }], undefined],
    ['the right to someone else', [{ mask: CR, who: 'S-1-5-21-1-2-3-9999', objectType: RESET }], undefined],
    ['write property, not control access', [{ mask: 0x20, who: ME }], undefined],
    ['an inherit-only ACE (for children, not this entry)', [{ mask: CR, who: ME, objectType: RESET, inheritOnly: true }], undefined],
    ['a deny before an allow', [{ deny: true, mask: CR, who: ME, objectType: RESET }, { mask: CR, who: GROUP }], 'deny'],
    ['an allow before a deny', [{ mask: CR, who: GROUP, objectType: RESET }, { deny: true, mask: CR, who: 'S-1-1-0' }], 'allow'],
    ['no DACL at all', undefined, 'allow'],
    ['an empty DACL', [], undefined],
  ])('%s', (_what, aces, expected) => {
    expect(resetRightIn(descriptor(aces), sids)).toBe(expected);
  });
});

describe("resourcePolicyProblem: the resource's generator policy against the domain's rules", () => {
  const domain: DomainPolicy = { minPwdLength: 14, complex: true, historyLength: 24, minPwdAgeMs: 0, lockoutThreshold: 5, lockoutDurationMs: 0, lockoutObservationWindowMs: 0 };
  const policy = { length: 24, minUpper: 1, minLower: 1, minDigits: 1, minSymbols: 1 };

  it('meets them with the defaults; three categories are enough; no complexity needs none', () => {
    expect(resourcePolicyProblem(policy, domain, "the domain's")).toBeUndefined();
    expect(resourcePolicyProblem({ ...policy, minSymbols: 0 }, domain, "the domain's")).toBeUndefined();
    expect(resourcePolicyProblem({ ...policy, minUpper: 0, minDigits: 0, minSymbols: 0 }, { ...domain, complex: false }, "the domain's")).toBeUndefined();
  });

  it('names the length to set, and the minimums to raise', () => {
    expect(resourcePolicyProblem({ ...policy, length: 12 }, domain, "the domain's")).toMatch(/policy.length is 12 .* minimum password length is 14; set policy.length to at least 14/);
    expect(resourcePolicyProblem({ ...policy, minDigits: 0, minSymbols: 0 }, domain, "the domain's")).toMatch(/makes sure of 2 \(upper-case letters, lower-case letters\); set 1 more of minDigits, minSymbols/);
  });
});
