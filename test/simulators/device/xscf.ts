/**
 * Fujitsu/Oracle XSCF (SPARC Enterprise M-series, Fujitsu M10/M12), the `XSCF> ` shell.
 *
 * Sources:
 * - "SPARC Enterprise M3000/M4000/M5000/M8000/M9000 Servers XSCF Reference Manual": password(8)
 *   ("password [-e ...] [-i inactive] [-M maxdays] [-n mindays] [-w warn] [user]"; "The password
 *   is specified in up to 32 characters. The following characters are valid:" letters, digits and
 *   !@#$%^&*[]{}()-+=~,></'?;: and space; "When invoked without a user operand, password operates
 *   on the current user account"; privileges: none for one's own, useradm for any account; and the
 *   caution "When you change the password for another user by using the user operand, the system
 *   password policy is not enforced"), adduser(8) ("Initially, this account has no password. It
 *   cannot be used for login until ... the password is set"; the name: lowercase letters, digits,
 *   "-" and "_", first a letter, at most 31 characters; useradm), setpasswordpolicy(8) (dcredit
 *   "The initial setting is 1", inactive -1, expiry 0), setprivileges(8), showuser(8).
 * - "SPARC Enterprise Mx000 Servers XSCF User's Guide", Table 2-4 (the policy items Mindays,
 *   Maxdays, Warn, Inactive, Expiry, Retry, Difok, Minlen, Dcredit, Ucredit, Lcredit, Ocredit,
 *   Remember; "A password must consist of at least six characters"; credits lower the minimum).
 * - "Fujitsu SPARC M12 and M10 System Operation and Administration Guide" 3.5.2 (the same items,
 *   checked with showpasswordpolicy).
 *
 * Wordings from those documents: the rules, the policy item names, the privileges. Best guesses,
 * marked: the prompts "New XSCF password: " / "Retype new XSCF password: " (the brief's wording;
 * the manual does not print the transcript), "Current password: " for one's own change, the
 * policy defaults other than Dcredit/Inactive/Expiry, the layout of showuser and
 * showpasswordpolicy, the refusals (the XSCF shell runs Linux PAM, so its pam_cracklib and passwd
 * lines "BAD PASSWORD: ..." and "Sorry, passwords do not match." are used), "Permission denied."
 * and "...: command not found". Remember (password history) is not modelled. XSCF has no save
 * step: a password is live at once.
 */
import type { LoginInfo, Terminal } from './dialect.js';
import {
  AccountTable,
  commandLoop,
  serviceProcessor,
  words,
  type ServiceProcessor,
  type ServiceProcessorOptions,
} from './service-processor.js';

export interface XscfPolicy {
  readonly mindays: number;
  readonly maxdays: number;
  readonly warn: number;
  readonly inactive: number;
  readonly expiry: number;
  readonly retry: number;
  readonly difok: number;
  readonly minlen: number;
  readonly dcredit: number;
  readonly ucredit: number;
  readonly lcredit: number;
  readonly ocredit: number;
  readonly remember: number;
}

export const XSCF_DEFAULT_POLICY: XscfPolicy = {
  mindays: 0, maxdays: 99999, warn: 7, inactive: -1, expiry: 0, retry: 3, difok: 3,
  minlen: 9, dcredit: 1, ucredit: 1, lcredit: 1, ocredit: 1, remember: 3,
};

export interface XscfOptions extends ServiceProcessorOptions {
  /** The password policy; default XSCF_DEFAULT_POLICY. */
  readonly policy?: Partial<XscfPolicy>;
}

const PROMPT = 'XSCF> ';
const MAX_USERS = 100;
const VALID = /^[A-Za-z0-9!@#$%^&*[\]{}()\-+=`~,></'?;: ]*$/;
const PRIVILEGES = ['useradm', 'platadm', 'platop', 'auditadm', 'auditop', 'fieldeng', 'domainadm', 'domainmgr', 'domainop', 'none'];

/** The character set and length password(8) allows, whoever's password it is. */
export function xscfCharactersOk(password: string): boolean {
  return password.length > 0 && password.length <= 32 && VALID.test(password);
}

/** The policy (pam_cracklib's credits); undefined when it passes, else the refusal line. */
export function xscfPolicyProblem(password: string, policy: XscfPolicy, old?: string): string | undefined {
  if (password.length < 6) return 'BAD PASSWORD: it is WAY too short';
  const count = (re: RegExp): number => (password.match(re) ?? []).length;
  const credit =
    Math.min(count(/[0-9]/g), policy.dcredit) +
    Math.min(count(/[A-Z]/g), policy.ucredit) +
    Math.min(count(/[a-z]/g), policy.lcredit) +
    Math.min(count(/[^A-Za-z0-9]/g), policy.ocredit);
  if (password.length + credit < policy.minlen) return 'BAD PASSWORD: it is too short';
  if (old !== undefined) {
    const fresh = [...password].filter((c) => !old.includes(c)).length;
    if (password === old) return 'BAD PASSWORD: is the same as the old one';
    if (fresh < policy.difok) return 'BAD PASSWORD: is too similar to the old one';
  }
  return undefined;
}

export function xscf(options: XscfOptions = {}): ServiceProcessor {
  const accounts = new AccountTable();
  for (const user of options.users ?? [{ name: 'admin', password: 'Adm1n-pass', privileges: 'useradm,platadm' }]) accounts.add(user);
  const policy: XscfPolicy = { ...XSCF_DEFAULT_POLICY, ...options.policy };
  const unexpected: string[] = [];
  const uids = new Map<string, number>(accounts.names().map((n, i) => [n, 100 + i]));
  const can = (name: string, privilege: string): boolean => (accounts.get(name)?.privileges ?? '').split(',').includes(privilege);

  async function session(term: Terminal, login: LoginInfo): Promise<void> {
    const me = login.username ?? '';

    /** New and retyped password, up to Retry tries; the policy only when `enforce`. */
    const readNew = async (enforce: boolean, old?: string): Promise<string | undefined> => {
      for (let attempt = 0; attempt < Math.max(1, policy.retry); attempt++) {
        const first = await term.read('New XSCF password: ', { echo: false });
        if (first === undefined) return undefined;
        const problem = !xscfCharactersOk(first)
          ? 'BAD PASSWORD: it contains characters that are not allowed'
          : enforce
            ? xscfPolicyProblem(first, policy, old)
            : undefined;
        if (problem) {
          await term.print(`${problem}\n`);
          continue;
        }
        const again = await term.read('Retype new XSCF password: ', { echo: false });
        if (again === undefined) return undefined;
        if (again === first) return first;
        await term.print('Sorry, passwords do not match.\n');
      }
      await term.print('password: Have exhausted maximum number of retries for service.\n');
      return undefined;
    };

    const password = async (args: string[]): Promise<void> => {
      if (args.some((a) => a.startsWith('-'))) {
        return void (await term.print('password: expiration options are not supported by this simulator.\n'));
      }
      if (args.length > 1) return void (await term.print('password: Invalid parameter.\n'));
      const target = args[0] ?? me;
      const operand = args[0] !== undefined;
      if (operand && !can(me, 'useradm')) return void (await term.print('password: Permission denied.\n'));
      if (!accounts.get(target)) return void (await term.print(`password: Unknown user ${target}.\n`));
      let old: string | undefined;
      if (!operand) {
        await term.print(`Changing password for ${target}.\n`);
        old = await term.read('Current password: ', { echo: false });
        if (old === undefined) return;
        if (!accounts.check(target, old)) return void (await term.print('password: Authentication token manipulation error.\n'));
      }
      // The manual: with the user operand the policy is not enforced (the character set still is).
      const next = await readNew(!operand, old);
      if (next === undefined) return;
      const refused = term.refusal();
      if (refused !== undefined) return void (await term.print(`password: ${refused}\n`));
      accounts.setPassword(target, next);
      term.applied(`password of ${target}`);
    };

    const showuser = async (args: string[]): Promise<void> => {
      const flags = args.filter((a) => a.startsWith('-')).join('');
      const names = args.filter((a) => !a.startsWith('-'));
      const list = flags.includes('l') ? accounts.names() : [names[0] ?? me];
      if (names.length > 0 && !can(me, 'useradm') && names[0] !== me) return void (await term.print('showuser: Permission denied.\n'));
      let out = '';
      for (const name of list) {
        const account = accounts.get(name);
        if (!account) return void (await term.print(`showuser: Unknown user ${name}.\n`));
        out += `User Name:          ${name}\nUID:                ${uids.get(name) ?? 100}\n`;
        out += `Status:             ${account.secret ? 'Enabled' : 'Locked'}\n`;
        if (flags.includes('p') || flags.includes('a')) {
          const privs = account.privileges === '' ? ['none'] : account.privileges.split(',');
          out += `Privileges:         ${privs.join('\n                    ')}\n`;
        }
      }
      await term.print(out);
    };

    await commandLoop(term, () => PROMPT, async (line) => {
      const [verb = '', ...args] = words(line);
      switch (verb) {
        case 'exit':
          return 'exit';
        case 'password':
          return password(args);
        case 'showuser':
          return showuser(args);
        case 'showpasswordpolicy':
          return void (await term.print(
            Object.entries(policy)
              .map(([k, v]) => `${(k.charAt(0).toUpperCase() + k.slice(1) + ':').padEnd(20)}${String(v)}\n`)
              .join(''),
          ));
        case 'adduser': {
          const name = args.filter((a) => !a.startsWith('-')).pop();
          if (!can(me, 'useradm')) return void (await term.print('adduser: Permission denied.\n'));
          if (name === undefined || !/^[a-z][a-z0-9_-]{0,30}$/.test(name)) return void (await term.print('adduser: Invalid user name.\n'));
          if (accounts.get(name)) return void (await term.print(`adduser: User ${name} already exists.\n`));
          if (accounts.size >= MAX_USERS) return void (await term.print('adduser: Too many users.\n'));
          accounts.add({ name });
          uids.set(name, 100 + uids.size);
          return;
        }
        case 'setprivileges': {
          const [name, ...privs] = args;
          if (!can(me, 'useradm')) return void (await term.print('setprivileges: Permission denied.\n'));
          const account = name === undefined ? undefined : accounts.get(name);
          if (!account) return void (await term.print(`setprivileges: Unknown user ${name ?? ''}.\n`));
          if (privs.some((p) => !PRIVILEGES.includes(p))) return void (await term.print('setprivileges: Invalid privilege.\n'));
          account.privileges = privs.filter((p) => p !== 'none').join(',');
          return;
        }
        default:
          unexpected.push(line);
          return void (await term.print(`${verb}: command not found\n`));
      }
    });
  }

  return serviceProcessor(
    {
      name: 'xscf',
      login: {
        usernamePrompt: 'login: ',
        passwordPrompt: 'Password: ',
        failed: 'Login incorrect\n',
      },
      session,
    },
    accounts,
    unexpected,
  );
}
