import { TargetUnchangedError } from '../../engine/errors.js';
import type { Policy } from '../../engine/policy.js';
import type { Secret } from '../../engine/secret.js';

/**
 * The domain's password and lockout policy, read from the domain head (the object named by the
 * rootDSE's defaultNamingContext), and the checks made before a password is sent, so that the
 * domain's own refusal (0000052D) is rare. Durations in AD are negative 100-nanosecond intervals;
 * times are FILETIMEs (100-nanosecond intervals since 1601-01-01 UTC).
 */
export interface DomainPolicy {
  readonly minPwdLength: number;
  /** pwdProperties has DOMAIN_PASSWORD_COMPLEX (1). */
  readonly complex: boolean;
  readonly historyLength: number;
  /** 0: a user may change the password again at once. */
  readonly minPwdAgeMs: number;
  /** 0: accounts never lock. */
  readonly lockoutThreshold: number;
  /** 0: a locked account stays locked until an admin unlocks it. */
  readonly lockoutDurationMs: number;
  /** Failed logons older than this no longer count (badPwdCount starts again from 0). */
  readonly lockoutObservationWindowMs: number;
}

export const DOMAIN_POLICY_ATTRIBUTES = [
  'minPwdLength',
  'pwdProperties',
  'pwdHistoryLength',
  'minPwdAge',
  'lockoutThreshold',
  'lockoutDuration',
  'lockOutObservationWindow',
] as const;

const DOMAIN_PASSWORD_COMPLEX = 1;
/** 1601-01-01 to 1970-01-01, in milliseconds. */
const FILETIME_EPOCH_OFFSET_MS = 11_644_473_600_000n;
/** The "never" value of AD durations (the most negative 64-bit integer). */
const NEVER = -9_223_372_036_854_775_808n;

function text(v: unknown): string | undefined {
  if (Array.isArray(v)) return text(v[0]);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  return undefined;
}

function bigint(v: unknown): bigint | undefined {
  const t = text(v)?.trim();
  if (t === undefined || !/^-?\d+$/.test(t)) return undefined;
  return BigInt(t);
}

function int(v: unknown, fallback: number): number {
  const b = bigint(v);
  return b === undefined ? fallback : Number(b);
}

/** An AD duration (a negative count of 100 ns) in milliseconds; "never" is Infinity. */
export function intervalToMs(v: unknown): number {
  const b = bigint(v);
  if (b === undefined || b === 0n) return 0;
  if (b === NEVER) return Number.POSITIVE_INFINITY;
  return Number((b < 0n ? -b : b) / 10_000n);
}

/** A FILETIME as a Date; undefined for 0 (never set, or "must change at next logon") and for "never". */
export function fileTimeToDate(v: unknown): Date | undefined {
  const b = bigint(v);
  if (b === undefined || b <= 0n || b >= 0x7fff_ffff_ffff_ffffn) return undefined;
  return new Date(Number(b / 10_000n - FILETIME_EPOCH_OFFSET_MS));
}

export function dateToFileTime(d: Date): string {
  return ((BigInt(d.getTime()) + FILETIME_EPOCH_OFFSET_MS) * 10_000n).toString();
}

/** A fine-grained Password Settings Object's attributes (msDS-PasswordSettings), which replace the domain's for the accounts it applies to. */
export const PSO_ATTRIBUTES = [
  'msDS-MinimumPasswordLength',
  'msDS-PasswordComplexityEnabled',
  'msDS-PasswordHistoryLength',
  'msDS-MinimumPasswordAge',
  'msDS-LockoutThreshold',
  'msDS-LockoutDuration',
  'msDS-LockoutObservationWindow',
] as const;

/** Parses a Password Settings Object (all its attributes are mandatory in the schema). */
export function parsePsoPolicy(entry: Readonly<Record<string, unknown>>): DomainPolicy {
  return {
    minPwdLength: int(entry['msDS-MinimumPasswordLength'], 7),
    complex: text(entry['msDS-PasswordComplexityEnabled'])?.toUpperCase() !== 'FALSE',
    historyLength: int(entry['msDS-PasswordHistoryLength'], 24),
    minPwdAgeMs: intervalToMs(entry['msDS-MinimumPasswordAge']),
    lockoutThreshold: int(entry['msDS-LockoutThreshold'], 0),
    lockoutDurationMs: intervalToMs(entry['msDS-LockoutDuration']),
    lockoutObservationWindowMs: intervalToMs(entry['msDS-LockoutObservationWindow']),
  };
}

/**
 * A policy whose lockout threshold may be lower than we know (a Password Settings Object applies
 * but could not be read, or we could not tell whether one applies): a threshold of at most 3,
 * so the budget allows one failed login. Password rules stay the domain's; a stricter PSO's
 * refusal still comes back from the domain as 0000052D.
 */
export function cautiousPolicy(p: DomainPolicy): DomainPolicy {
  return { ...p, lockoutThreshold: p.lockoutThreshold === 0 ? 3 : Math.min(p.lockoutThreshold, 3) };
}

/** Parses the domain head's attributes. Absent attributes take AD's defaults for a new forest. */
export function parseDomainPolicy(entry: Readonly<Record<string, unknown>>): DomainPolicy {
  return {
    minPwdLength: int(entry.minPwdLength, 7),
    complex: (int(entry.pwdProperties, DOMAIN_PASSWORD_COMPLEX) & DOMAIN_PASSWORD_COMPLEX) !== 0,
    historyLength: int(entry.pwdHistoryLength, 24),
    minPwdAgeMs: intervalToMs(entry.minPwdAge),
    lockoutThreshold: int(entry.lockoutThreshold, 0),
    lockoutDurationMs: intervalToMs(entry.lockoutDuration),
    lockoutObservationWindowMs: intervalToMs(entry.lockOutObservationWindow),
  };
}

/** What the checks need to know about the account. */
export interface AccountFacts {
  readonly sAMAccountName: string;
  readonly displayName?: string | undefined;
  /** undefined: never set, or must change at next logon (pwdLastSet 0). */
  readonly pwdLastSet?: Date | undefined;
}

export type ComplexityCategory = 'upper' | 'lower' | 'digit' | 'symbol' | 'other-letter';

/** The 32 non-alphanumeric characters both Windows and Samba count; space is not among them. */
const NON_ALPHANUMERIC = '~!@#$%^&*_-+=`|\\(){}[]:;"\'<>,.?/';

/**
 * The category a character counts for under the complexity rule, or undefined when it counts for
 * none. Where Windows and Samba differ, only what both count is counted (Samba counts any other
 * non-ASCII character; Windows only alphabetic ones; neither counts a space or a currency sign).
 */
export function complexityCategory(c: string): ComplexityCategory | undefined {
  if (c >= '0' && c <= '9') return 'digit';
  if (NON_ALPHANUMERIC.includes(c)) return 'symbol';
  if (/^\p{Lu}$/u.test(c)) return 'upper';
  if (/^\p{Ll}$/u.test(c)) return 'lower';
  if (/^\p{Lo}$/u.test(c)) return 'other-letter';
  return undefined;
}

/** The displayName's tokens of three characters or more, split at the documented delimiters. */
export function displayNameTokens(displayName: string | undefined): string[] {
  if (!displayName) return [];
  return displayName.split(/[,.\-_ #\t]+/).filter((t) => [...t].length >= 3);
}

/**
 * Why the domain would refuse this password, or undefined. The rules are Microsoft's "Passwords
 * must meet complexity requirements" (https://learn.microsoft.com/windows/win32/secmgmt/strong-password-enforcement-and-passfilt-dll):
 * not containing the sAMAccountName (when it has 3 characters or more) nor any displayName token of
 * 3 characters or more, case-insensitively; characters from 3 of the 5 categories. Plus the
 * minimum length, and for a user's own change the minimum password age. History cannot be checked
 * here (the domain keeps only hashes): a reused password is refused by the domain (0000052D).
 */
export function domainPolicyProblem(
  password: Secret,
  policy: DomainPolicy,
  account: AccountFacts,
  change: { readonly selfChange: boolean; readonly now: Date },
): string | undefined {
  const value = password.reveal();
  const chars = [...value];
  if (chars.length < policy.minPwdLength) {
    return `it is ${chars.length} characters long and the domain's minimum password length is ${policy.minPwdLength}; raise the resource's policy.length to at least ${policy.minPwdLength}`;
  }
  if (policy.complex) {
    const lower = value.toLowerCase();
    const sam = account.sAMAccountName;
    if ([...sam].length >= 3 && lower.includes(sam.toLowerCase())) {
      return "it contains the account's sAMAccountName, which the domain's complexity rule forbids";
    }
    if (displayNameTokens(account.displayName).some((t) => lower.includes(t.toLowerCase()))) {
      return "it contains a part of the account's displayName, which the domain's complexity rule forbids";
    }
    const categories = new Set(chars.map(complexityCategory).filter((c) => c !== undefined));
    if (categories.size < 3) {
      return (
        `the domain requires characters from 3 of 5 categories (upper-case letters, lower-case letters, digits, ASCII symbols, other letters) ` +
        `and it has ${categories.size}; set the resource's policy so at least three of minUpper, minLower, minDigits and minSymbols are 1 or more`
      );
    }
  }
  if (change.selfChange && policy.minPwdAgeMs > 0 && account.pwdLastSet) {
    const earliest = account.pwdLastSet.getTime() + policy.minPwdAgeMs;
    if (change.now.getTime() < earliest) {
      return `the domain's minimum password age does not allow the account to change its password again before ${new Date(earliest).toISOString()}; configure an adminAccount (an admin reset is not bound by the minimum age) or wait`;
    }
  }
  return undefined;
}

/** Refuses, before anything is sent, a password the domain's policy would refuse. */
export function assertDomainPolicy(password: Secret, policy: DomainPolicy, account: AccountFacts, change: { readonly selfChange: boolean; readonly now: Date }): void {
  const problem = domainPolicyProblem(password, policy, account, change);
  if (problem) throw new TargetUnchangedError(`the new password breaks the domain's password policy, so it was not sent; nothing was changed: ${problem}`);
}

/** The resource policy's fields that guarantee each complexity category in every generated password. */
const GUARANTEES = [
  { field: 'minUpper', name: 'upper-case letters' },
  { field: 'minLower', name: 'lower-case letters' },
  { field: 'minDigits', name: 'digits' },
  { field: 'minSymbols', name: 'symbols' },
] as const;

/**
 * Why passwords generated from the resource's policy would break the domain's (or a PSO's) rules,
 * or undefined: shorter than its minimum length, or, under complexity, sure of fewer than 3 of the
 * categories (a generated password holds only ASCII letters, digits and the policy's ASCII symbols,
 * each of which Windows and Samba count). `whose`: "the domain's", "the password settings object X's".
 */
export function resourcePolicyProblem(policy: Pick<Policy, 'length' | 'minUpper' | 'minLower' | 'minDigits' | 'minSymbols'>, rules: DomainPolicy, whose: string): string | undefined {
  if (policy.length < rules.minPwdLength) {
    return `the resource's policy.length is ${policy.length} and ${whose} minimum password length is ${rules.minPwdLength}; set policy.length to at least ${rules.minPwdLength}`;
  }
  if (!rules.complex) return undefined;
  const sure = GUARANTEES.filter((g) => policy[g.field] > 0);
  if (sure.length >= 3) return undefined;
  const unset = GUARANTEES.filter((g) => policy[g.field] === 0).map((g) => g.field);
  return (
    `${whose} complexity rule needs characters from 3 categories, and the resource's policy makes sure of ${sure.length} (${sure.map((g) => g.name).join(', ') || 'none'}); ` +
    `set ${3 - sure.length} more of ${unset.join(', ')} to 1 or more`
  );
}
