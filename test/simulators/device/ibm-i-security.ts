/**
 * IBM i user profiles, the password system values and the three ways a password changes: the
 * Change User Password (QSYCHGPW) API, the Change User Profile (CHGUSRPRF) command and the
 * sign-on check. Sources (IBM Documentation):
 * - "Change User Password (QSYCHGPW) API" (apis/QSYCHGPW.htm, IBM i 7.3): a user changing its own
 *   password must give the current one; another user's, or `*NOPWD`, needs *SECADM (and *OBJMGT
 *   and *USE to the profile); the new password is checked against the composition rules;
 *   trailing blanks and nulls are removed from both.
 * - "Change User Profile (CHGUSRPRF)" (cl/chgusrprf.htm, V5R3 text): needs *SECADM; "The new
 *   password is not checked against the password validation rules"; at QPWDLVL 0 or 1 a numeric
 *   password must begin with Q.
 * - Security Reference, "System values that apply to passwords": QPWDLVL (0/1: 1 to 10
 *   characters, A-Z 0-9 $ # @ _, not case-sensitive; 2/3: 1 to 128, case-sensitive), QPWDMINLEN,
 *   QPWDMAXLEN, QPWDRQDDIF, QPWDLMTCHR, QPWDLMTAJC, QPWDLMTREP, QPWDPOSDIF, QPWDRQDDGT, QMAXSIGN,
 *   QMAXSGNACN.
 * - "Check Password (CHKPWD)" (cl/chkpwd.htm): CPF2362 "Password not correct.".
 * Message ids and first-level texts: CPF22E2, CPF22E3, CPF22E4, CPF2204 and CPF2362 are IBM's (the
 * QSYGETPH and CHKPWD pages list them). The rule messages' ids follow a public program that
 * handles QSYCHGPW's errors (CPF22C2 too short, CPF22C3 too long, CPF22C4 used before, CPF22C8
 * same position, CPF22D0 repeated); CPF22C5/C6/C7/C9 and every rule text are best guesses, worded
 * from the system value's description. CPF2217 (not authorized) and CPC2205 are best guesses too.
 */

export type PasswordLevel = 0 | 1 | 2 | 3;
export type SpecialAuthority = '*ALLOBJ' | '*SECADM' | '*JOBCTL' | '*SAVSYS' | '*SERVICE' | '*SPLCTL' | '*AUDIT' | '*IOSYSCFG';

export interface UserProfile {
  readonly name: string;
  /** As stored: uppercased at QPWDLVL 0/1; undefined is *NONE. */
  password: string | undefined;
  status: '*ENABLED' | '*DISABLED';
  specialAuthorities: Set<SpecialAuthority>;
  /** Earlier passwords, newest first (QPWDRQDDIF). */
  readonly history: string[];
  invalidSignons: number;
  passwordExpired: boolean;
}

export interface SystemValues {
  QPWDLVL: PasswordLevel;
  QPWDMINLEN: number;
  QPWDMAXLEN: number;
  /** 0: may repeat; 1-8: must differ from the last 32, 24, 18, 12, 10, 8, 6 or 4. */
  QPWDRQDDIF: number;
  /** Characters a password may not contain (up to 10, A-Z 0-9 $ # @ _). */
  QPWDLMTCHR: string;
  QPWDLMTAJC: boolean;
  /** '0' repeats allowed; '1' no character twice; '2' no character twice in a row. */
  QPWDLMTREP: '0' | '1' | '2';
  QPWDPOSDIF: boolean;
  QPWDRQDDGT: boolean;
  QMAXSIGN: number;
  /** '1' disable the device, '2' disable the profile, '3' both. */
  QMAXSGNACN: '1' | '2' | '3';
}

export const DEFAULT_SYSTEM_VALUES: SystemValues = {
  QPWDLVL: 2, QPWDMINLEN: 6, QPWDMAXLEN: 128, QPWDRQDDIF: 0, QPWDLMTCHR: '', QPWDLMTAJC: false,
  QPWDLMTREP: '0', QPWDPOSDIF: false, QPWDRQDDGT: false, QMAXSIGN: 3, QMAXSGNACN: '3',
};

const HISTORY_DEPTH = [0, 32, 24, 18, 12, 10, 8, 6, 4];

/** An IBM i message as the system utility prints it ("CPF22E2: text"). */
export interface IbmMessage {
  readonly id: string;
  readonly text: string;
}

const msg = (id: string, text: string): IbmMessage => ({ id, text });

export const MESSAGES = {
  wrongPassword: (u: string) => msg('CPF22E2', `Password not correct for user profile ${u}.`),
  disabled: (u: string) => msg('CPF22E3', `User profile ${u} is disabled.`),
  expired: (u: string) => msg('CPF22E4', `Password for user profile ${u} has expired.`),
  notFound: (u: string) => msg('CPF2204', `User profile ${u} not found.`),
  notAuthorized: (u: string) => msg('CPF2217', `Not authorized to user profile ${u}.`), // best guess
  profileChanged: (u: string) => msg('CPC2205', `User profile ${u} changed.`), // best guess
  checkFailed: () => msg('CPF2362', 'Password not correct.'),
  // Composition rules (QSYCHGPW): see the header for which are IBM's.
  tooShort: (n: number) => msg('CPF22C2', `Password too short. Password must be at least ${n} characters.`),
  tooLong: (n: number) => msg('CPF22C3', `Password too long. Password must be ${n} characters or less.`),
  usedBefore: () => msg('CPF22C4', 'Password matches one of the previous passwords.'),
  restricted: (chars: string) => msg('CPF22C5', `Password contains a restricted character. Characters ${chars} are not allowed.`),
  adjacentDigits: () => msg('CPF22C6', 'Password contains two numbers next to each other.'),
  repeated: () => msg('CPF22C7', 'Password contains a character used more than once.'),
  samePosition: () => msg('CPF22C8', 'Password has the same character in the same position as the previous password.'),
  needsDigit: () => msg('CPF22C9', 'Password must contain a number.'),
  consecutive: () => msg('CPF22D0', 'Password contains a character repeated consecutively.'),
  sameAsCurrent: () => msg('CPD2356', 'New password same as current password.'),
  notValid: (level: PasswordLevel) =>
    msg('CPF22C1', level < 2
      ? 'Password not valid. At password level 0 or 1 a password is 1 to 10 characters: A-Z, 0-9, $, #, @ and _, not starting with a number.'
      : 'Password not valid. At password level 2 or 3 a password is 1 to 128 characters.'), // best guess
};

/** A change refused: the messages IBM i sends, the last one the escape message. */
export class IbmRefusal extends Error {
  constructor(readonly messages: readonly IbmMessage[]) {
    super(messages.map((m) => `${m.id}: ${m.text}`).join('\n'));
  }
}

export class IbmSecurity {
  readonly values: SystemValues = { ...DEFAULT_SYSTEM_VALUES };
  readonly #profiles = new Map<string, UserProfile>();

  addProfile(name: string, password: string | undefined, options: { special?: readonly SpecialAuthority[]; status?: '*ENABLED' | '*DISABLED' } = {}): UserProfile {
    const p: UserProfile = {
      name: name.toUpperCase(),
      password: password === undefined ? undefined : this.#stored(password),
      status: options.status ?? '*ENABLED',
      specialAuthorities: new Set(options.special ?? []),
      history: [],
      invalidSignons: 0,
      passwordExpired: false,
    };
    this.#profiles.set(p.name, p);
    return p;
  }

  profile(name: string): UserProfile | undefined {
    return this.#profiles.get(name.toUpperCase());
  }

  /** Whether `password` is the profile's password, as the system compares at its QPWDLVL. */
  matches(p: UserProfile, password: string): boolean {
    return p.password !== undefined && p.password === this.#stored(password);
  }

  /** The SSH (PAM-less, QSYGETPH-like) sign-on check, counting failures toward QMAXSIGN. */
  signOn(name: string, password: string): UserProfile | IbmMessage {
    const p = this.profile(name);
    if (!p) return MESSAGES.wrongPassword(name.toUpperCase()); // IBM answers CPF22E2 for an unknown user too
    if (p.status === '*DISABLED') return MESSAGES.disabled(p.name);
    if (!this.matches(p, password)) {
      p.invalidSignons += 1;
      if (p.invalidSignons >= this.values.QMAXSIGN && this.values.QMAXSGNACN !== '1') p.status = '*DISABLED';
      return MESSAGES.wrongPassword(p.name);
    }
    p.invalidSignons = 0;
    // sshd cannot run the expired-password display a 5250 sign-on shows; the login is refused.
    if (p.passwordExpired) return MESSAGES.expired(p.name);
    return p;
  }

  /**
   * QSYCHGPW: `caller` changes `target`'s password. `current` is the current password, or
   * '*NOPWD' (officer) or '*NONE'. Throws IbmRefusal with IBM's messages; returns the profile.
   */
  changePassword(caller: UserProfile, target: string, current: string, next: string): UserProfile {
    const name = target.toUpperCase() === '*CURRENT' ? caller.name : target.toUpperCase();
    const p = this.profile(name);
    if (!p) throw new IbmRefusal([MESSAGES.notFound(name)]);
    const self = p.name === caller.name;
    const cur = current.replace(/[ \0]+$/, '');
    if ((!self || cur.toUpperCase() === '*NOPWD') && !this.isOfficer(caller)) throw new IbmRefusal([MESSAGES.notAuthorized(p.name)]);
    if (cur.toUpperCase() === '*NONE') {
      if (p.password !== undefined) throw new IbmRefusal([MESSAGES.wrongPassword(p.name)]);
    } else if (cur.toUpperCase() !== '*NOPWD' && !this.matches(p, cur)) {
      throw new IbmRefusal([MESSAGES.wrongPassword(p.name)]);
    }
    const n = next.replace(/[ \0]+$/, '');
    this.#checkSyntax(n);
    this.#checkRules(p, n);
    return p;
  }

  /** CHGUSRPRF PASSWORD(): *SECADM needed; the value's syntax is checked, the QPWD* rules are not. */
  setPassword(caller: UserProfile, target: string, next: string): UserProfile {
    const p = this.profile(target);
    if (!this.isOfficer(caller)) throw new IbmRefusal([MESSAGES.notAuthorized(target.toUpperCase())]);
    if (!p) throw new IbmRefusal([MESSAGES.notFound(target.toUpperCase())]);
    if (next !== '*NONE' && next !== '*SAME') this.#checkSyntax(next);
    return p;
  }

  /** Stores a new password (after the checks and the simulator's refusal hook). */
  apply(p: UserProfile, next: string): void {
    if (p.password !== undefined) p.history.unshift(p.password);
    p.password = next === '*NONE' ? undefined : this.#stored(next.replace(/[ \0]+$/, ''));
    p.passwordExpired = false;
  }

  isOfficer(p: UserProfile): boolean {
    return p.specialAuthorities.has('*SECADM');
  }

  #stored(password: string): string {
    return this.values.QPWDLVL < 2 ? password.toUpperCase() : password;
  }

  #checkSyntax(pw: string): void {
    const level = this.values.QPWDLVL;
    const ok = level < 2 ? /^[A-Za-z$#@_][A-Za-z0-9$#@_]{0,9}$/.test(pw) : pw.length >= 1 && pw.length <= 128;
    if (!ok) throw new IbmRefusal([MESSAGES.notValid(level)]);
  }

  #checkRules(p: UserProfile, raw: string): void {
    const v = this.values;
    const pw = this.#stored(raw);
    const fold = v.QPWDLVL < 2 ? pw : pw.toUpperCase();
    if (pw.length < v.QPWDMINLEN) throw new IbmRefusal([MESSAGES.tooShort(v.QPWDMINLEN)]);
    if (pw.length > Math.min(v.QPWDMAXLEN, v.QPWDLVL < 2 ? 10 : 128)) throw new IbmRefusal([MESSAGES.tooLong(v.QPWDMAXLEN)]);
    if (p.password !== undefined && pw === p.password) throw new IbmRefusal([MESSAGES.sameAsCurrent()]);
    const depth = HISTORY_DEPTH[v.QPWDRQDDIF] ?? 0;
    if (p.history.slice(0, depth).includes(pw)) throw new IbmRefusal([MESSAGES.usedBefore()]);
    const limited = [...v.QPWDLMTCHR.toUpperCase()].filter((c) => fold.includes(c));
    if (limited.length > 0) throw new IbmRefusal([MESSAGES.restricted(v.QPWDLMTCHR)]);
    if (v.QPWDLMTAJC && /[0-9]{2}/.test(pw)) throw new IbmRefusal([MESSAGES.adjacentDigits()]);
    if (v.QPWDLMTREP === '1' && new Set(fold).size !== fold.length) throw new IbmRefusal([MESSAGES.repeated()]);
    if (v.QPWDLMTREP === '2' && /(.)\1/.test(fold)) throw new IbmRefusal([MESSAGES.consecutive()]);
    if (v.QPWDPOSDIF && p.password !== undefined) {
      const old = v.QPWDLVL < 2 ? p.password : p.password.toUpperCase();
      if ([...fold].some((c, i) => old[i] === c)) throw new IbmRefusal([MESSAGES.samePosition()]);
    }
    if (v.QPWDRQDDGT && !/[0-9]/.test(pw)) throw new IbmRefusal([MESSAGES.needsDigit()]);
  }
}
