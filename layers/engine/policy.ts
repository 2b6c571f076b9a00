import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { InvalidConfigurationError } from './errors.js';
import { Secret } from './secret.js';

export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const DIGITS = '0123456789';
/** Every printable ASCII character that is not a letter, digit or space. */
export const SYMBOLS = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

const policyFields = {
  length: z.number().int().min(1).max(1024),
  minLength: z.number().int().min(1),
  maxLength: z.number().int().min(1).max(1024),
  /** Limit on the UTF-8 encoded size, where the target counts bytes. */
  maxBytes: z.number().int().min(1),
  minLower: z.number().int().min(0),
  minUpper: z.number().int().min(0),
  minDigits: z.number().int().min(0),
  minSymbols: z.number().int().min(0),
  /** The symbols the generator may use. */
  symbols: z.string(),
  /** Characters never generated and refused by the adapter. */
  forbidden: z.string(),
  /**
   * Characters a password may not start with (and the generator never puts first), where the
   * target reads a leading one as something else: `!` and `#` begin a comment on IOS-style
   * command lines. Allowed anywhere else in the password.
   */
  forbiddenFirst: z.string(),
  /** Whether the target accepts characters outside printable ASCII. */
  allowUnicode: z.boolean(),
};

/**
 * A password policy. `length` is what the generator produces; the type's hard limits
 * (`minLength`, `maxLength`, `maxBytes`, `forbidden`, `forbiddenFirst`, `allowUnicode`) also bound every password the adapter accepts.
 */
export const policySchema = z
  .object({
    length: policyFields.length.default(24),
    minLength: policyFields.minLength.default(1),
    maxLength: policyFields.maxLength.default(128),
    maxBytes: policyFields.maxBytes.optional(),
    minLower: policyFields.minLower.default(1),
    minUpper: policyFields.minUpper.default(1),
    minDigits: policyFields.minDigits.default(1),
    minSymbols: policyFields.minSymbols.default(1),
    symbols: policyFields.symbols.default(SYMBOLS),
    forbidden: policyFields.forbidden.default(''),
    forbiddenFirst: policyFields.forbiddenFirst.default(''),
    allowUnicode: policyFields.allowUnicode.default(true),
  })
  .strict();

/**
 * A resource's overrides of its type's policy: the same fields without defaults.
 * (`policySchema.partial()` would fill every absent field with the generic default,
 * and those defaults would then override the type's own, e.g. maxLength 128 over Oracle's 30.)
 */
export const policyOverridesSchema = z.object(policyFields).partial().strict();
export type PolicyOverrides = z.output<typeof policyOverridesSchema>;

export type Policy = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

/**
 * Whether the text holds a C0 or C1 control character, DEL, or a Unicode line or paragraph
 * separator: each reads as a line break or a command somewhere between here and the target.
 */
export function hasControlCharacter(text: string): boolean {
  for (const c of text) {
    const n = c.codePointAt(0)!;
    if (n < 0x20 || (n >= 0x7f && n <= 0x9f) || n === 0x2028 || n === 0x2029) return true;
  }
  return false;
}

function classes(p: Policy): { name: string; field: keyof Policy; min: number; alphabet: string }[] {
  const keep = (s: string) => [...s].filter((c) => !p.forbidden.includes(c)).join('');
  return [
    { name: 'lower-case letters', field: 'minLower', min: p.minLower, alphabet: keep(LOWER) },
    { name: 'upper-case letters', field: 'minUpper', min: p.minUpper, alphabet: keep(UPPER) },
    { name: 'digits', field: 'minDigits', min: p.minDigits, alphabet: keep(DIGITS) },
    { name: 'symbols', field: 'minSymbols', min: p.minSymbols, alphabet: keep(p.symbols) },
  ];
}

/**
 * Checks that a generator can meet the policy. Called when a policy is saved, so an
 * impossible policy is refused then, not at reset time. `path` prefixes field names.
 */
export function assertPolicyPossible(p: Policy, path = 'policy'): void {
  const fail = (field: string, msg: string) => {
    throw new InvalidConfigurationError(`${path}.${field}`, msg);
  };
  if (p.minLength > p.maxLength) fail('minLength', `is greater than maxLength (${p.maxLength})`);
  if (p.length < p.minLength) fail('length', `is below minLength (${p.minLength})`);
  if (p.length > p.maxLength) fail('length', `exceeds maxLength (${p.maxLength}) for this resource type`);
  // Generated characters are ASCII, so bytes equal characters.
  if (p.maxBytes !== undefined && p.length > p.maxBytes) fail('length', `exceeds the target's limit of ${p.maxBytes} bytes`);
  for (const c of p.symbols) {
    if (c.charCodeAt(0) < 0x21 || c.charCodeAt(0) > 0x7e || /[A-Za-z0-9]/.test(c)) {
      fail('symbols', `may hold only printable ASCII punctuation, not ${JSON.stringify(c)}`);
    }
  }
  let required = 0;
  let alphabet = '';
  for (const c of classes(p)) {
    if (c.min > 0 && c.alphabet.length === 0) fail(c.field, `requires ${c.min} ${c.name}, but every one is forbidden`);
    required += c.min;
    alphabet += c.alphabet;
  }
  if (required > p.length) fail('length', `is ${p.length}, but the minimums per character class add up to ${required}`);
  if (alphabet.length < 2) fail('forbidden', 'leaves fewer than two characters to generate from');
  for (const c of p.forbiddenFirst) {
    if (hasControlCharacter(c)) fail('forbiddenFirst', 'must not hold control characters');
  }
  const canStart = (s: string) => [...s].some((c) => !p.forbiddenFirst.includes(c));
  if (!canStart(alphabet)) fail('forbiddenFirst', 'forbids every character the generator may use as the first');
  // With no free position, the first character is one of the required ones.
  if (required === p.length && !classes(p).some((c) => c.min > 0 && canStart(c.alphabet))) {
    fail('forbiddenFirst', 'forbids as the first character every character the minimums per class require, and no other position is free');
  }
}

/** Generates a password that meets the policy exactly, from a cryptographic source. */
export function generatePassword(p: Policy): Secret {
  assertPolicyPossible(p);
  const cls = classes(p);
  const all = cls.map((c) => c.alphabet).join('');
  // Each character with the alphabet it was drawn from (its class's, or all for a free position).
  const drawn: { c: string; from: string }[] = [];
  const draw = (from: string) => drawn.push({ c: from[randomInt(from.length)]!, from });
  for (const c of cls) for (let i = 0; i < c.min; i++) draw(c.alphabet);
  while (drawn.length < p.length) draw(all);
  const firstAllowed = (c: string) => !p.forbiddenFirst.includes(c);
  // Where every character drawn is forbidden first, one is redrawn, within its own alphabet, from
  // those allowed first; assertPolicyPossible made sure some position's alphabet has one.
  if (!drawn.some((d) => firstAllowed(d.c))) {
    const slot = drawn.find((d) => [...d.from].some(firstAllowed))!;
    const starters = [...slot.from].filter(firstAllowed);
    slot.c = starters[randomInt(starters.length)]!;
  }
  const chars = drawn.map((d) => d.c);
  // Fisher-Yates, so the required characters are not at predictable positions.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  // Then the first position goes to a random character allowed there.
  if (!firstAllowed(chars[0]!)) {
    const candidates = chars.flatMap((c, i) => (firstAllowed(c) ? [i] : []));
    const j = candidates[randomInt(candidates.length)]!;
    [chars[0], chars[j]] = [chars[j]!, chars[0]!];
  }
  return new Secret(chars.join(''));
}

/**
 * Refuses a password the target cannot take, before anything is sent to it.
 * These are the type's hard limits, not the generator's preferences.
 */
export function assertPasswordAcceptable(p: Policy, password: Secret, field = 'password'): void {
  const v = password.reveal();
  const fail = (msg: string) => {
    throw new InvalidConfigurationError(field, msg);
  };
  if (v.length === 0) fail('is empty');
  if (v.includes('\0')) fail('contains a NUL character, which the target cannot take');
  if (hasControlCharacter(v)) fail('contains a control character (newline, tab, escape or similar), which the target cannot take');
  const chars = [...v];
  if (chars.length < p.minLength) fail(`is ${chars.length} characters long; the target needs at least ${p.minLength}`);
  if (chars.length > p.maxLength) fail(`is ${chars.length} characters long; the target takes at most ${p.maxLength}`);
  if (p.maxBytes !== undefined && Buffer.byteLength(v, 'utf8') > p.maxBytes) fail(`is longer than the target's limit of ${p.maxBytes} bytes`);
  // The field's name, never the character: the message must not reveal the password.
  if (p.forbiddenFirst.includes(chars[0]!)) fail('starts with a character this target reads as something else there (policy.forbiddenFirst); it is allowed elsewhere');
  chars.forEach((c, i) => {
    // The position, never the character: the message must not reveal the password.
    if (p.forbidden.includes(c)) fail(`has a character this target forbids at position ${i + 1}`);
    if (!p.allowUnicode && c.codePointAt(0)! > 0x7e) fail(`has a character outside printable ASCII at position ${i + 1}, which this target does not take`);
  });
}

/** Parses and checks a policy given as overrides on top of the type's defaults. */
export function resolvePolicy(typeDefaults: PolicyInput, overrides: PolicyOverrides | PolicyInput | undefined, path = 'policy'): Policy {
  // An override written as `undefined` is no override: it must not clear the type's value.
  const given = Object.fromEntries(Object.entries(overrides ?? {}).filter(([, v]) => v !== undefined));
  const parsed = policySchema.safeParse({ ...typeDefaults, ...given });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.code === 'unrecognized_keys' ? [issue.keys[0]] : [];
    throw new InvalidConfigurationError([path, ...issue.path, ...key].join('.'), issue.message);
  }
  // A resource may tighten, never loosen, what the type can take.
  const d = policySchema.parse(typeDefaults);
  const p = parsed.data;
  if (p.maxLength > d.maxLength) throw new InvalidConfigurationError(`${path}.maxLength`, `exceeds the type's limit of ${d.maxLength}`);
  if (p.minLength < d.minLength) throw new InvalidConfigurationError(`${path}.minLength`, `is below the type's minimum of ${d.minLength}`);
  if (d.maxBytes !== undefined && p.maxBytes !== undefined && p.maxBytes > d.maxBytes) {
    throw new InvalidConfigurationError(`${path}.maxBytes`, `exceeds the type's limit of ${d.maxBytes} bytes`);
  }
  p.forbidden = [...new Set([...d.forbidden, ...p.forbidden])].join('');
  p.forbiddenFirst = [...new Set([...d.forbiddenFirst, ...p.forbiddenFirst])].join('');
  if (!d.allowUnicode) p.allowUnicode = false;
  assertPolicyPossible(p, path);
  return p;
}
