/**
 * HP iLO 2/3/4 SMASH CLP, the `</>hpiLO-> ` command line over SSH (and Telnet where enabled).
 *
 * Sources:
 * - "HP iLO 4 Scripting and Command Line Guide" (and the iLO 3 edition, same text): "Command line
 *   syntax" (`<verb> [<options>] [<target>] [<properties>]`, the verbs cd, create, delete, exit,
 *   help, set, show, version), "User commands" (targets under /map1/accounts1, properties
 *   username, password, name, group with values admin, config, oemhp_power, oemhp_rc, oemhp_vm;
 *   "If you do not specify a group, no privileges are assigned"; the examples
 *   `create /map1/accounts1 username=lname1 password=pwd12345 name=dname1 group=admin,config`).
 * - The same guide's RIBCL ADD_USER/MOD_USER runtime errors: "Password is too short. Minimum
 *   length is 8 characters.", "Password is too long. Maximum length is 39 characters.", "Login
 *   name is too long. Maximum length is 39 characters."; the iLO User Guide: the Minimum Password
 *   Length (default 8) and a 39-character maximum; "Administer User Accounts" (group `admin`) is
 *   needed to change another user; any user may change its own password.
 * - DMTF DSP0214 "Server Management Command Line Protocol (SM CLP) Specification" 1.0.2, Table 6
 *   (error / error_tag values: COMMAND NOT RECOGNIZED, COMMAND SYNTAX ERROR, INVALID TARGET, ...)
 *   and the command response keywords status / status_tag / error_tag.
 *
 * - iLO 4 transcripts quoted in public code (a SMASH simulator's fixtures, an HPE config script):
 *   "status=0 / status_tag=COMMAND COMPLETED / <asctime date>" then three blank lines and the body;
 *   "status=2 / status_tag=COMMAND PROCESSING FAILED / error_tag=COMMAND ERROR-UNSPECIFIED /
 *   <date>", a blank line, the message ("Property value already set.", "Server power already
 *   on.") and two blank lines.
 *
 * Wordings: the status lines, error tags, property names and length messages come from the
 * sources above. Best guesses, marked here: the Telnet login prompts ("Login Name: ",
 * "Password: "), the login banner, the free-text line under an error ("Invalid target." and the
 * privilege message), the `show` layout's indentation, and the date line iLO prints after status.
 *
 * Quoting: a property value is a bare word, or a double-quoted string that may hold spaces. The
 * CLP has no escape for a double quote, so a password containing `"` cannot be carried: a stray or
 * unbalanced quote is a COMMAND SYNTAX ERROR and nothing changes. iLO has no save step: a change
 * is live at once.
 */
import type { LoginInfo, Terminal } from './dialect.js';
import {
  AccountTable,
  commandLoop,
  serviceProcessor,
  parseClp,
  type ServiceProcessor,
  type ServiceProcessorOptions,
} from './service-processor.js';

export interface HpIloOptions extends ServiceProcessorOptions {
  /** iLO's Minimum Password Length (Access Settings); default 8. */
  readonly minPasswordLength?: number;
  /** The clock for the date line under each status; default the real one. */
  readonly now?: () => Date;
}

const PROMPT = '</>hpiLO-> ';
const MAX_LENGTH = 39;
const ACCOUNTS = '/map1/accounts1';
/** The CLP verbs iLO documents; anything else is not a command at all. */
const VERBS = ['cd', 'create', 'delete', 'exit', 'help', 'load', 'reset', 'set', 'show', 'start', 'stop', 'version', 'oemhp_loadsshkey', 'oemhp_deletesshkey'];
const GROUPS = ['admin', 'config', 'oemhp_power', 'oemhp_rc', 'oemhp_vm'];

function resolve(cwd: string, target: string | undefined): string {
  if (target === undefined) return cwd;
  const parts = (target.startsWith('/') ? [] : cwd.split('/')).concat(target.split('/'));
  const out: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

/** iLO's date line, in the C library's asctime form ("Wed Dec  2 13:05:25 2026"). */
function stamp(date: Date): string {
  const [dow, day, mon, year, time] = date.toUTCString().replace(',', '').split(' ');
  const weekday = dow ?? '';
  const d = String(Number(day));
  return `${weekday} ${mon ?? ''} ${d.padStart(2, ' ')} ${time ?? ''} ${year ?? ''}`;
}

export function hpIlo(options: HpIloOptions = {}): ServiceProcessor {
  const accounts = new AccountTable();
  for (const user of options.users ?? [{ name: 'Administrator', password: 'Admin1234', privileges: GROUPS.join(',') }]) {
    accounts.add(user);
  }
  const unexpected: string[] = [];
  const minLength = options.minPasswordLength ?? 8;
  const now = options.now ?? (() => new Date());

  // The blank lines around the body are as in iLO 4 transcripts (see the header).
  const ok = (body = ''): string => `status=0\nstatus_tag=COMMAND COMPLETED\n${stamp(now())}\n\n\n\n${body}\n`;
  const failed = (tag: string, message: string): string =>
    `status=2\nstatus_tag=COMMAND PROCESSING FAILED\nerror_tag=${tag}\n${stamp(now())}\n\n${message}\n\n\n`;
  const isAdmin = (name: string): boolean => (accounts.get(name)?.privileges ?? '').split(',').includes('admin');

  /** The length rules; undefined when `password` passes. */
  const passwordProblem = (password: string): string | undefined => {
    if (password.length < minLength) return `Password is too short. Minimum length is ${minLength} characters.`;
    if (password.length > MAX_LENGTH) return `Password is too long. Maximum length is ${MAX_LENGTH} characters.`;
    return undefined;
  };

  const showTarget = (path: string): string | undefined => {
    if (path === ACCOUNTS) {
      const targets = accounts.names().map((n) => `    ${n}\n`).join('');
      return `${path}\n  Targets\n${targets}  Properties\n  Verbs\n    cd version exit show create delete set\n`;
    }
    const name = path.startsWith(ACCOUNTS + '/') ? path.slice(ACCOUNTS.length + 1) : undefined;
    const account = name === undefined ? undefined : accounts.get(name);
    if (account) {
      return (
        `${path}\n  Targets\n  Properties\n    username=${account.name}\n    password=******\n` +
        `    name=${account.name}\n    group=${account.privileges}\n  Verbs\n    cd version exit show set delete\n`
      );
    }
    if (path === '/' || path === '/map1') {
      const child = path === '/' ? 'map1' : 'accounts1';
      return `${path}\n  Targets\n    ${child}\n  Properties\n  Verbs\n    cd version exit show\n`;
    }
    return undefined;
  };

  async function session(term: Terminal, login: LoginInfo): Promise<void> {
    const me = login.username ?? '';
    let cwd = '/';
    await term.print(`User:${me} logged-in to ILO.\niLO 4 Advanced 2.55\nServer Power: On\n\n`);

    const setProperties = async (path: string, properties: Map<string, string>): Promise<void> => {
      const name = path.startsWith(ACCOUNTS + '/') ? path.slice(ACCOUNTS.length + 1) : '';
      const account = name === '' || name.includes('/') ? undefined : accounts.get(name);
      if (!account) return void (await term.print(failed('COMMAND ERROR-UNSPECIFIED', 'Invalid target.')));
      for (const key of properties.keys()) {
        if (!['password', 'name', 'group'].includes(key)) {
          return void (await term.print(failed('COMMAND ERROR-UNSPECIFIED', `Invalid property '${key}'.`)));
        }
      }
      const own = account.name === me;
      if (!isAdmin(me) && (!own || properties.has('group'))) {
        return void (await term.print(failed('COMMAND ERROR-UNSPECIFIED', 'User does not have the required privilege (Administer User Accounts).')));
      }
      const password = properties.get('password');
      const group = properties.get('group');
      if (group !== undefined && group.split(',').some((g) => g !== '' && !GROUPS.includes(g))) {
        return void (await term.print(failed('INVALID ARGUMENT', `Invalid value '${group}' for property 'group'.`)));
      }
      if (password !== undefined) {
        const problem = passwordProblem(password);
        if (problem) return void (await term.print(failed('COMMAND ERROR-UNSPECIFIED', problem)));
        const refused = term.refusal();
        if (refused !== undefined) return void (await term.print(failed('COMMAND ERROR-UNSPECIFIED', refused)));
        accounts.setPassword(account.name, password);
        term.applied(`password of ${account.name}`);
      }
      if (group !== undefined) account.privileges = group;
      await term.print(ok());
    };

    const create = async (path: string, properties: Map<string, string>): Promise<void> => {
      if (path !== ACCOUNTS) return void (await term.print(failed('COMMAND ERROR-UNSPECIFIED', 'Invalid target.')));
      if (!isAdmin(me)) {
        return void (await term.print(failed('COMMAND ERROR-UNSPECIFIED', 'User does not have the required privilege (Administer User Accounts).')));
      }
      const username = properties.get('username');
      const password = properties.get('password');
      if (username === undefined || password === undefined) {
        return void (await term.print(failed('COMMAND SYNTAX ERROR', 'Required properties: username, password.')));
      }
      if (username.length > MAX_LENGTH) {
        return void (await term.print(failed('COMMAND ERROR-UNSPECIFIED', `Login name is too long. Maximum length is ${MAX_LENGTH} characters.`)));
      }
      if (accounts.get(username)) {
        return void (await term.print(failed('COMMAND ERROR-UNSPECIFIED', 'User login name already exists.')));
      }
      const problem = passwordProblem(password);
      if (problem) return void (await term.print(failed('COMMAND ERROR-UNSPECIFIED', problem)));
      const group = properties.get('group') ?? '';
      if (group.split(',').some((g) => g !== '' && !GROUPS.includes(g))) {
        return void (await term.print(failed('INVALID ARGUMENT', `Invalid value '${group}' for property 'group'.`)));
      }
      accounts.add({ name: username, password, privileges: group });
      await term.print(ok());
    };

    await commandLoop(term, () => PROMPT, async (line) => {
      const verb = (line.split(/\s+/)[0] ?? '').toLowerCase();
      if (!VERBS.includes(verb)) {
        unexpected.push(line);
        return void (await term.print(failed('COMMAND NOT RECOGNIZED', 'Invalid command.')));
      }
      const command = parseClp(line);
      if (!command || command.targets.length > 1) return void (await term.print(failed('COMMAND SYNTAX ERROR', 'Invalid command syntax.')));
      const path = resolve(cwd, command.targets[0]);
      switch (command.verb) {
        case 'exit':
          await term.print(ok('CLI session stopped\n'));
          return 'exit';
        case 'cd':
          if (!showTarget(path)) return void (await term.print(failed('COMMAND ERROR-UNSPECIFIED', 'Invalid target.')));
          cwd = path;
          return void (await term.print(ok(`${cwd}\n`)));
        case 'show': {
          const body = showTarget(path);
          if (!body) return void (await term.print(failed('COMMAND ERROR-UNSPECIFIED', 'Invalid target.')));
          return void (await term.print(ok(body)));
        }
        case 'set':
          if (command.properties.size === 0) return void (await term.print(failed('COMMAND SYNTAX ERROR', 'No property given.')));
          return setProperties(path, command.properties);
        case 'create':
          return create(path, command.properties);
        default:
          // A CLP verb iLO knows but this simulator does not model (delete, reset, load, ...).
          unexpected.push(line);
          return void (await term.print(failed('COMMAND NOT SUPPORTED', 'Command not supported here.')));
      }
    });
  }

  return serviceProcessor(
    {
      name: 'hp-ilo',
      login: {
        usernamePrompt: 'Login Name: ',
        passwordPrompt: 'Password: ',
        failed: 'Invalid login.\n',
      },
      session,
    },
    accounts,
    unexpected,
  );
}
