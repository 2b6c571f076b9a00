/**
 * The simulated host's Security Accounts Manager: local users with their passwords, the
 * Administrators group, and the local password policy; and, for a domain-joined host, the
 * domain accounts that may log in. Names compare case-insensitively, as Windows does.
 *
 * The complexity rule is the one "Password must meet complexity requirements" documents
 * (learn.microsoft.com, Windows security policy settings): the password must not contain the
 * account name (when the name is longer than two characters), and must hold characters of three of
 * five classes: upper-case, lower-case, digits, non-alphanumeric (~!@#$%^&*_-+=`|\(){}[]:;"'<>,.?/),
 * and Unicode letters that are neither upper- nor lower-case.
 */

export interface PasswordPolicy {
  /** "Minimum password length" (0 to 14 in the policy editor; up to 20 with the relaxed-limit setting). */
  minLength: number;
  complexity: boolean;
  /** "Enforce password history": how many earlier passwords may not be reused. */
  history: number;
}

export interface SamUser {
  readonly name: string;
  password: string;
  admin: boolean;
  readonly history: string[];
}

/** The SAM takes passwords of up to 256 characters (PWLEN). */
export const SAM_MAX_PASSWORD = 256;

export class Sam {
  readonly users = new Map<string, SamUser>();
  policy: PasswordPolicy;

  constructor(policy: Partial<PasswordPolicy> = {}) {
    this.policy = { minLength: 0, complexity: false, history: 0, ...policy };
  }

  add(name: string, password: string, options: { admin?: boolean } = {}): SamUser {
    const user: SamUser = { name, password, admin: options.admin ?? false, history: [] };
    this.users.set(name.toLowerCase(), user);
    return user;
  }

  get(name: string): SamUser | undefined {
    return this.users.get(name.toLowerCase());
  }

  /** Sets a password as an administrator's reset does (policy applies; history too). */
  setPassword(name: string, password: string): 'ok' | 'not-found' | 'policy' {
    const user = this.get(name);
    if (!user) return 'not-found';
    if (!meetsPolicy(this.policy, user.name, password)) return 'policy';
    if (this.policy.history > 0 && [user.password, ...user.history].slice(0, this.policy.history).includes(password)) return 'policy';
    user.history.unshift(user.password);
    user.password = password;
    return 'ok';
  }
}

export function meetsPolicy(policy: PasswordPolicy, name: string, password: string): boolean {
  const chars = [...password];
  if (chars.length > SAM_MAX_PASSWORD || chars.length < policy.minLength) return false;
  if (!policy.complexity) return true;
  if (name.length > 2 && password.toLowerCase().includes(name.toLowerCase())) return false;
  const classes = new Set<string>();
  for (const c of chars) {
    if (/[A-Z]/.test(c) || (/\p{Lu}/u.test(c) && c > '\x7f')) classes.add('upper');
    else if (/[a-z]/.test(c) || (/\p{Ll}/u.test(c) && c > '\x7f')) classes.add('lower');
    else if (/[0-9]/.test(c)) classes.add('digit');
    else if (/[~!@#$%^&*_\-+=`|\\(){}[\]:;"'<>,.?/]/.test(c)) classes.add('symbol');
    else if (/\p{L}/u.test(c)) classes.add('other-letter');
  }
  return classes.size >= 3;
}

/** The domain of a domain-joined host: its accounts may log in as DOMAIN\user or user@dns.domain. */
export class Domain {
  readonly users = new Map<string, SamUser>();
  constructor(
    readonly netbios: string,
    readonly dns: string,
  ) {}

  add(name: string, password: string, options: { admin?: boolean } = {}): SamUser {
    const user: SamUser = { name, password, admin: options.admin ?? false, history: [] };
    this.users.set(name.toLowerCase(), user);
    return user;
  }
}
