import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../../layers/engine/errors.js';
import {
  assertPasswordAcceptable,
  assertPolicyPossible,
  DIGITS,
  generatePassword,
  LOWER,
  policySchema,
  resolvePolicy,
  SYMBOLS,
  UPPER,
  type Policy,
  type PolicyInput,
} from '../../../layers/engine/policy.js';
import { Secret } from '../../../layers/engine/secret.js';
import { RESOURCE_TYPES } from '../../../layers/resources/common.js';
import { policyOf } from '../../../layers/resources/registry.js';

const policy = (input: PolicyInput = {}): Policy => policySchema.parse(input);

function refusal(act: () => unknown): InvalidConfigurationError {
  try {
    act();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    return e as InvalidConfigurationError;
  }
  throw new Error('expected an InvalidConfigurationError');
}

const count = (s: string, alphabet: string) => [...s].filter((c) => alphabet.includes(c)).length;

/** What is wrong with a generated password under the policy, or nothing. */
function problems(p: Policy, v: string): string[] {
  const allowed = new Set([...LOWER, ...UPPER, ...DIGITS, ...p.symbols].filter((c) => !p.forbidden.includes(c)));
  const found: string[] = [];
  if (v.length !== p.length) found.push(`length ${v.length}`);
  if (p.maxBytes !== undefined && Buffer.byteLength(v) > p.maxBytes) found.push('bytes');
  if (count(v, LOWER) < p.minLower) found.push('minLower');
  if (count(v, UPPER) < p.minUpper) found.push('minUpper');
  if (count(v, DIGITS) < p.minDigits) found.push('minDigits');
  if (count(v, p.symbols) < p.minSymbols) found.push('minSymbols');
  if ([...v].some((c) => !allowed.has(c))) found.push('a character outside the allowed set');
  return found;
}

/** Asserts that every one of `n` generated passwords meets the policy exactly. */
function expectGeneratedToMeet(p: Policy, n: number): void {
  const seen = new Set<string>();
  const failures: string[] = [];
  for (let i = 0; i < n; i++) {
    const secret = generatePassword(p);
    expect(secret).toBeInstanceOf(Secret);
    const v = secret.reveal();
    seen.add(v);
    failures.push(...problems(p, v));
    assertPasswordAcceptable(p, secret);
  }
  expect(failures).toEqual([]);
  // A cryptographic source does not repeat itself at these lengths.
  expect(seen.size).toBe(n);
}

describe('generatePassword', () => {
  it('meets the default policy exactly', () => {
    expectGeneratedToMeet(policy(), 2000);
  });

  it('meets heavy class minimums, a restricted symbol set and forbidden characters', () => {
    expectGeneratedToMeet(
      policy({ length: 20, minLower: 4, minUpper: 5, minDigits: 5, minSymbols: 6, symbols: '!#%+', forbidden: 'lIO01#' }),
      2000,
    );
  });

  it('fills a password made only of required characters', () => {
    expectGeneratedToMeet(policy({ length: 8, minLower: 2, minUpper: 2, minDigits: 2, minSymbols: 2 }), 500);
  });

  it('generates letters and digits only when symbols are off', () => {
    const p = policy({ minSymbols: 0, symbols: '' });
    expectGeneratedToMeet(p, 500);
    for (let i = 0; i < 200; i++) expect(generatePassword(p).reveal()).toMatch(/^[A-Za-z0-9]+$/);
  });

  it.each(RESOURCE_TYPES)('meets the %s default policy', (type) => {
    expectGeneratedToMeet(policyOf({ type }), 300);
  });

  it('uses every allowed character sooner or later', () => {
    const p = policy({ length: 64, minLower: 0, minUpper: 0, minDigits: 0, minSymbols: 0 });
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) for (const c of generatePassword(p).reveal()) seen.add(c);
    expect(seen.size).toBe(LOWER.length + UPPER.length + DIGITS.length + SYMBOLS.length);
  });

  it('refuses to generate from an impossible policy', () => {
    expect(refusal(() => generatePassword(policy({ length: 3 }))).field).toBe('policy.length');
  });
});

describe('assertPolicyPossible', () => {
  it.each<[string, PolicyInput, string]>([
    ['minLength above maxLength', { minLength: 40, maxLength: 30, length: 30 }, 'policy.minLength'],
    ['length below minLength', { minLength: 30, length: 24 }, 'policy.length'],
    ['length above maxLength', { length: 40, maxLength: 30 }, 'policy.length'],
    ['length above maxBytes', { length: 24, maxBytes: 20 }, 'policy.length'],
    ['class minimums above length', { length: 8, minLower: 3, minUpper: 3, minDigits: 3 }, 'policy.length'],
    ['every digit forbidden', { forbidden: DIGITS }, 'policy.minDigits'],
    ['every lower-case letter forbidden', { forbidden: LOWER }, 'policy.minLower'],
    ['every upper-case letter forbidden', { forbidden: UPPER }, 'policy.minUpper'],
    ['every allowed symbol forbidden', { symbols: '!#', forbidden: '#!' }, 'policy.minSymbols'],
    ['symbols required but none allowed', { symbols: '' }, 'policy.minSymbols'],
    ['a letter among the symbols', { symbols: '!a' }, 'policy.symbols'],
    ['a space among the symbols', { symbols: '! ' }, 'policy.symbols'],
    ['a non-ASCII symbol', { symbols: '!§' }, 'policy.symbols'],
    ['fewer than two characters left', { minLower: 0, minUpper: 0, minSymbols: 0, symbols: '', forbidden: `${LOWER}${UPPER}012345678` }, 'policy.forbidden'],
  ])('refuses %s, naming the field', (_, input, field) => {
    expect(refusal(() => assertPolicyPossible(policy(input))).field).toBe(field);
  });

  it('prefixes the field with the given path', () => {
    expect(refusal(() => assertPolicyPossible(policy({ forbidden: DIGITS }), 'resources.3.policy')).field).toBe('resources.3.policy.minDigits');
  });
});

describe('resolvePolicy', () => {
  const oracleLike: PolicyInput = { length: 30, maxLength: 30, maxBytes: 30, forbidden: '"', allowUnicode: false, minLength: 8 };

  it('applies overrides on top of the type defaults', () => {
    expect(resolvePolicy(oracleLike, { length: 20, minSymbols: 3 })).toMatchObject({ length: 20, minSymbols: 3, maxLength: 30, maxBytes: 30 });
  });

  it('keeps the type defaults with no overrides, or overrides written as undefined', () => {
    expect(resolvePolicy(oracleLike, undefined)).toMatchObject({ length: 30, maxLength: 30 });
    expect(resolvePolicy(oracleLike, { length: undefined, maxBytes: undefined })).toMatchObject({ length: 30, maxBytes: 30 });
  });

  it('refuses a higher maxLength, a lower minLength or a higher maxBytes than the type takes', () => {
    expect(refusal(() => resolvePolicy(oracleLike, { maxLength: 31 })).field).toBe('policy.maxLength');
    expect(refusal(() => resolvePolicy(oracleLike, { minLength: 4 })).field).toBe('policy.minLength');
    expect(refusal(() => resolvePolicy(oracleLike, { maxBytes: 60 })).field).toBe('policy.maxBytes');
  });

  it('keeps the type\'s forbidden characters and its ASCII-only rule whatever the overrides say', () => {
    const p = resolvePolicy(oracleLike, { forbidden: '\'', allowUnicode: true });
    expect([...p.forbidden].sort()).toEqual(['"', "'"]);
    expect(p.allowUnicode).toBe(false);
  });

  it('lets a resource tighten every limit', () => {
    expect(resolvePolicy(oracleLike, { maxLength: 20, length: 20, minLength: 12, maxBytes: 20 })).toMatchObject({ maxLength: 20, minLength: 12, maxBytes: 20 });
  });

  it('refuses an impossible combination, naming the field under the path', () => {
    expect(refusal(() => resolvePolicy(oracleLike, { minUpper: 31 }, 'r.policy')).field).toBe('r.policy.length');
  });

  it('refuses malformed and unknown fields, naming them', () => {
    expect(refusal(() => resolvePolicy(oracleLike, { length: -1 })).field).toBe('policy.length');
    expect(refusal(() => resolvePolicy(oracleLike, { lenght: 12 } as PolicyInput)).field).toBe('policy.lenght');
  });
});

describe('assertPasswordAcceptable', () => {
  const p = policy({ maxLength: 16, maxBytes: 20, forbidden: '?', allowUnicode: false, minLength: 4 });
  const ascii = policy({ maxLength: 64 });

  it('takes a password within every limit', () => {
    expect(() => assertPasswordAcceptable(p, new Secret('Tr0ub4dor&3!'))).not.toThrow();
    expect(() => assertPasswordAcceptable(ascii, new Secret('Grüße aus Köln 2024!'))).not.toThrow();
  });

  it.each<[string, string, Policy, RegExp]>([
    ['empty', '', p, /is empty/],
    ['a NUL', 'Abc\u0000Xyz1', p, /NUL/],
    ['a newline', 'Abc\nXyz1', p, /control character/],
    ['a carriage return', 'Abc\rXyz1', p, /control character/],
    ['a tab', 'Abc\tXyz1', p, /control character/],
    ['an escape', 'Abc\u001bXyz1', p, /control character/],
    ['DEL', 'Abc\u007fXyz1', p, /control character/],
    ['a C1 next-line', 'Abc\u0085Xyz1', ascii, /control character/],
    ['a line separator', 'Abc\u2028Xyz1', ascii, /control character/],
    ['a forbidden character', 'Abcd?fgh', p, /forbids at position 5/],
    ['too many characters', 'A'.repeat(17), p, /17 characters long; the target takes at most 16/],
    ['too few characters', 'Ab1', p, /needs at least 4/],
    ['too many bytes', 'ééééééééééé', policy({ maxLength: 16, maxBytes: 20 }), /20 bytes/],
    ['a character outside ASCII', 'Abcdéfgh', p, /outside printable ASCII at position 5/],
  ])('refuses %s, without the password in the message', (_, value, pol, why) => {
    const error = refusal(() => assertPasswordAcceptable(pol, new Secret(value), 'pending'));
    expect(error.field).toBe('pending');
    expect(error.message).toMatch(why);
    if (value.length > 0) expect(error.message).not.toContain(value);
    // Nor any recognisable fragment of it.
    for (const fragment of ['Abc', 'Xyz', 'fgh', 'AAAA', 'éé']) if (value.includes(fragment)) expect(error.message).not.toContain(fragment);
  });

  it('does not reveal a forbidden character itself', () => {
    const error = refusal(() => assertPasswordAcceptable(policy({ forbidden: '§' }), new Secret('Abcd§fgh')));
    expect(error.message).not.toContain('§');
  });
});
