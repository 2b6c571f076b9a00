import type { PasswordPolicy } from '@aws-sdk/client-iam';
import type { Policy } from '../../engine/policy.js';
import type { Secret } from '../../engine/secret.js';
import { IAM_SYMBOLS } from './schema.js';

/**
 * The parts of an account's IAM password policy (`GetAccountPasswordPolicy`) a new password can
 * be checked against before it is sent, as IAM documents them ("Setting an account password
 * policy for IAM users", IAM User Guide): a minimum length (6 to 128, 8 when unset), and each
 * required class at least once, symbols being IAM's own set. `PasswordReusePrevention` cannot be
 * checked here (IAM keeps the history); IAM refuses such a password with PasswordPolicyViolation.
 */
export interface AccountPasswordRules {
  readonly minLength: number;
  readonly lower: boolean;
  readonly upper: boolean;
  readonly digits: boolean;
  readonly symbols: boolean;
}

/** IAM's rules when no password policy is set: its default of 8 characters and 3 of the 4 classes, documented as "the default password policy". */
export const IAM_DEFAULT_RULES = { minLength: 8, lower: false, upper: false, digits: false, symbols: false, threeOfFour: true } as const;

export function rulesOf(policy: PasswordPolicy | undefined): AccountPasswordRules & { readonly threeOfFour?: boolean } {
  if (!policy) return IAM_DEFAULT_RULES;
  return {
    minLength: policy.MinimumPasswordLength ?? 6,
    lower: policy.RequireLowercaseCharacters === true,
    upper: policy.RequireUppercaseCharacters === true,
    digits: policy.RequireNumbers === true,
    symbols: policy.RequireSymbols === true,
  };
}

/** What the password lacks under the rules, in words; undefined when it meets them. Never the password. */
export function ruleBroken(rules: AccountPasswordRules & { readonly threeOfFour?: boolean }, password: Secret): string | undefined {
  const value = password.reveal();
  if (value.length < rules.minLength) return `at least ${rules.minLength} characters`;
  const has = {
    lower: /[a-z]/.test(value),
    upper: /[A-Z]/.test(value),
    digits: /[0-9]/.test(value),
    symbols: [...value].some((c) => IAM_SYMBOLS.includes(c)),
  };
  if (rules.lower && !has.lower) return 'a lower-case letter';
  if (rules.upper && !has.upper) return 'an upper-case letter';
  if (rules.digits && !has.digits) return 'a digit';
  if (rules.symbols && !has.symbols) return `one of IAM's symbols ${IAM_SYMBOLS}`;
  if (rules.threeOfFour && Object.values(has).filter(Boolean).length < 3) return 'three of: lower-case letters, upper-case letters, digits, symbols';
  return undefined;
}

/**
 * Where the resource's policy, which generates the passwords, falls short of the account's rules:
 * the setting to change, for a dry run's finding. Undefined when every password it makes passes.
 */
export function policyShortfall(rules: AccountPasswordRules, policy: Policy): string | undefined {
  if (policy.length < rules.minLength) return `policy.length is ${policy.length}; IAM's account password policy needs at least ${rules.minLength}`;
  if (rules.lower && policy.minLower < 1) return "policy.minLower is 0; IAM's account password policy requires a lower-case letter";
  if (rules.upper && policy.minUpper < 1) return "policy.minUpper is 0; IAM's account password policy requires an upper-case letter";
  if (rules.digits && policy.minDigits < 1) return "policy.minDigits is 0; IAM's account password policy requires a digit";
  if (rules.symbols && (policy.minSymbols < 1 || ![...policy.symbols].some((c) => IAM_SYMBOLS.includes(c)))) {
    return `policy.minSymbols and policy.symbols must give at least one of IAM's symbols ${IAM_SYMBOLS}`;
  }
  return undefined;
}
