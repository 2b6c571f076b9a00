/**
 * Sun Advanced Lights Out Manager (ALOM) 1.5/1.6, the `sc> ` command shell.
 *
 * Sources:
 * - "Sun Advanced Lights Out Manager (ALOM) 1.6 Administration Guide" and the ALOM 1.5 online help
 *   (same text): "ALOM Shell Commands" (password: "Changes the login password of the current
 *   user"; logout; showusers; useradd; userpassword; userperm; usershow), "userpassword" ("You
 *   must have u level user permission", "ALOM does not prompt you for the existing password",
 *   the prompts "New password: " and "Re-enter new password: ", and the restrictions: "at least
 *   six characters. Only the first eight characters are significant"; "at least two alphabetic
 *   characters ... and at least one numeric or special character"; "must differ from your login
 *   name and any reverse or circular shift of your login name" (case-insensitive); "must differ
 *   from the old by at least three characters"), "Adding ALOM User Accounts" ("a maximum of 15
 *   unique user accounts", the usershow table: Username / Permissions / Password?, "Assigned" or
 *   "None"), "userperm" (levels a, u, c, r; none = read-only).
 * - "Sun Advanced Lights Out Manager Software User's Guide" for the Sun Fire V240/N240 (817-5481),
 *   chapter 4 "Using the ALOM Command Shell" (the `sc>` prompt, Table 4-1 of shell commands).
 *
 * Wordings from those documents: the prompts, the rules, the usershow layout. Best guesses,
 * marked: "Enter current password: " and "Enter new password: " for `password` (the guide shows
 * the command, not its transcript), the login prompts "Please login: " / "Please Enter password: ",
 * the banner, and every error line ("Error: Invalid password entered. ...", "Error: Insufficient
 * permissions for this command.", "Error: The passwords you entered did not match.", "Invalid
 * command. Type 'help' for list of commands."). The "differ from the old by three" rule is
 * enforced by `password`, where the old one is typed; `userpassword` never sees the old one (this
 * simulator, like the device, keeps only a hash). ALOM has no save step: a password is live at once.
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

const PROMPT = 'sc> ';
const MAX_USERS = 15;
const RULES =
  'Error: Invalid password entered. Password must be 6-8 characters, differ from the previous by at least 3 characters and contain at least two alphabetic characters and at least one numeric or special character.';

/** Whether `candidate` is `name`, its reverse, or a circular shift of either (case-insensitive). */
function shiftOfName(candidate: string, name: string): boolean {
  const c = candidate.toLowerCase();
  const n = name.toLowerCase();
  if (n === '' || c.length !== n.length) return false;
  const r = [...n].reverse().join('');
  return (n + n).includes(c) || (r + r).includes(c);
}

/** How many positions differ, counting a length difference (as Unix passwd compares). */
function difference(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let d = Math.abs(x.length - y.length);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) d++;
  return d;
}

/** ALOM's password restrictions, on the eight characters that count; true when `password` passes. */
export function alomPasswordOk(password: string, login: string, old?: string): boolean {
  const p = password.slice(0, 8);
  if (p.length < 6) return false;
  if ((p.match(/[A-Za-z]/g) ?? []).length < 2 || !/[^A-Za-z]/.test(p)) return false;
  if (shiftOfName(p, login.slice(0, 8)) || shiftOfName(p, login)) return false;
  if (old !== undefined && difference(p, old.slice(0, 8)) < 3) return false;
  return true;
}

export function alom(options: ServiceProcessorOptions = {}): ServiceProcessor {
  const accounts = new AccountTable(8);
  for (const user of options.users ?? [{ name: 'admin', password: 'admin123', privileges: 'cuar' }]) accounts.add(user);
  const unexpected: string[] = [];
  const can = (name: string, level: string): boolean => (accounts.get(name)?.privileges ?? '').includes(level);

  async function session(term: Terminal, login: LoginInfo): Promise<void> {
    const me = login.username ?? '';
    const since = new Date();

    /** The two new-password prompts, checked against the rules; undefined when refused or cut. */
    const readNew = async (prompt: string, target: string, old?: string): Promise<string | undefined> => {
      const first = await term.read(prompt, { echo: false });
      if (first === undefined) return undefined;
      const again = await term.read('Re-enter new password: ', { echo: false });
      if (again === undefined) return undefined;
      if (first !== again) return void (await term.print('Error: The passwords you entered did not match.\n'));
      if (!alomPasswordOk(first, target, old)) return void (await term.print(`${RULES}\n`));
      return first;
    };

    const apply = async (name: string, password: string): Promise<void> => {
      const refused = term.refusal();
      if (refused !== undefined) return void (await term.print(`Error: ${refused}\n`));
      accounts.setPassword(name, password);
      term.applied(`password of ${name}`);
    };

    const usershow = (names: string[]): string => {
      const rows = names.map((n) => {
        const a = accounts.get(n);
        const perms = (a?.privileges ?? '').padStart(4, '-');
        return `${n.padEnd(17)}${perms.padEnd(16)}${a?.secret ? 'Assigned' : 'None'}\n`;
      });
      return `Username         Permissions     Password?\n---------------- --------------- ---------\n${rows.join('')}`;
    };

    await commandLoop(term, () => PROMPT, async (line) => {
      const [verb = '', ...args] = words(line);
      switch (verb) {
        case 'logout':
          return 'exit';
        case 'password': {
          if (args.length > 0) return void (await term.print('Error: Invalid command option. Type \'help password\' for usage.\n'));
          const current = await term.read('Enter current password: ', { echo: false });
          if (current === undefined) return;
          if (!accounts.check(me, current)) return void (await term.print('Error: Invalid password.\n'));
          const next = await readNew('Enter new password: ', me, current);
          if (next !== undefined) await apply(me, next);
          return;
        }
        case 'userpassword': {
          const [name] = args;
          if (name === undefined || args.length > 1) return void (await term.print('Error: Invalid command option. Type \'help userpassword\' for usage.\n'));
          if (!can(me, 'u')) return void (await term.print('Error: Insufficient permissions for this command.\n'));
          if (!accounts.get(name)) return void (await term.print(`Error: User '${name}' does not exist.\n`));
          const next = await readNew('New password: ', name);
          if (next !== undefined) await apply(name, next);
          return;
        }
        case 'useradd': {
          const [name] = args;
          if (name === undefined || args.length > 1) return void (await term.print('Error: Invalid command option. Type \'help useradd\' for usage.\n'));
          if (!can(me, 'u')) return void (await term.print('Error: Insufficient permissions for this command.\n'));
          if (!/^[A-Za-z][A-Za-z0-9._-]{0,15}$/.test(name) || !/[a-z]/.test(name)) {
            return void (await term.print('Error: Invalid username string.\n'));
          }
          if (accounts.get(name)) return void (await term.print(`Error: User '${name}' already exists.\n`));
          if (accounts.size >= MAX_USERS) return void (await term.print('Error: Maximum number of users already defined.\n'));
          accounts.add({ name });
          return;
        }
        case 'userperm': {
          const [name, perms = ''] = args;
          if (name === undefined || args.length > 2) return void (await term.print('Error: Invalid command option. Type \'help userperm\' for usage.\n'));
          if (!can(me, 'u')) return void (await term.print('Error: Insufficient permissions for this command.\n'));
          const account = accounts.get(name);
          if (!account) return void (await term.print(`Error: User '${name}' does not exist.\n`));
          if (!/^[aucr]{0,4}$/.test(perms)) return void (await term.print('Error: Invalid permission string.\n'));
          account.privileges = perms;
          return;
        }
        case 'usershow': {
          const [name] = args;
          if (name !== undefined && !accounts.get(name)) return void (await term.print(`Error: User '${name}' does not exist.\n`));
          return void (await term.print(usershow(name === undefined ? accounts.names() : [name])));
        }
        case 'showusers': {
          const when = since.toUTCString().slice(5, 22);
          return void (await term.print(
            `username           connection    login time         client IP addr  console\n` +
              `------------------------------------------------------------------------------\n` +
              `${me.padEnd(19)}${(term.transport === 'ssh' ? 'ssh-1' : 'telnet-1').padEnd(14)}${when.padEnd(19)}\n`,
          ));
        }
        default:
          unexpected.push(line);
          return void (await term.print("Invalid command. Type 'help' for list of commands.\n"));
      }
    });
  }

  return serviceProcessor(
    {
      name: 'alom',
      login: {
        usernamePrompt: 'Please login: ',
        passwordPrompt: 'Please Enter password: ',
        failed: '\nLogin incorrect.\n',
        banner: () => '\nSun(TM) Advanced Lights Out Manager 1.6\n\n',
      },
      session,
    },
    accounts,
    unexpected,
  );
}
