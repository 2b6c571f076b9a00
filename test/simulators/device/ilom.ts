/**
 * Oracle ILOM (Integrated Lights Out Manager) 3.x command line, the `-> ` prompt.
 *
 * Sources:
 * - "Oracle ILOM Administrator's Guide for Configuration and Maintenance, Firmware Release 3.2.x",
 *   "Configuring Local User Accounts", Table 15 (create: `create /SP/users/user_name
 *   password=... role=administrator|operator|a|u|c|r|o|s`, also `create /SP/users user5
 *   password=... role=aucr`; "The user name must be 4 to 16 characters and must start with an
 *   alphabetic character and use no spaces. The password must be 8 to 16 characters ... Use any
 *   characters except a colon and space."; without password= "the CLI will prompt you to provide
 *   and confirm a password"; the role defaults to Read-Only (o); User Management (u) is required
 *   to create or change other accounts) and Table 16 (view, modify: `set /SP/users/NAME password`).
 * - "Oracle ILOM User's Guide for System Monitoring and Diagnostics", "Supported CLI Syntax" and
 *   "Navigating to Targets" (the `show` layout: Targets:, Properties:, Commands:).
 * - Oracle EDR InfiniBand Switch Administration Guide, "Change an Oracle ILOM User's Password or
 *   Role (Oracle ILOM CLI)": `set /SP/users/testuser password=knockknock` answered "Changing
 *   password for user /SP/users/testuser...", "Enter new password again: ", "New password was
 *   successfully set for user /SP/users/testuser".
 * - Sun Blade 8000 ILOM guide 819-5846: "Operators can modify their own password".
 *
 * Wordings from those documents: the prompts, the "Changing password"/"successfully set" lines,
 * the show layout, the rules. Best guesses, marked: "Enter new password: " for the first prompt of
 * the interactive form (the ILOM 3.0 CLI transcripts), the `verb: message` error form ("set:
 * Permission denied", "set: Invalid target ...", "set: Passwords do not match", "set: Invalid
 * password"), "Invalid command '...' - type help for a list of commands.", the banner and the
 * Telnet login prompts. ILOM has no save step.
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

const PROMPT = '-> ';
const USERS = '/SP/users';
const VERBS = ['cd', 'create', 'delete', 'dump', 'exit', 'help', 'load', 'reset', 'set', 'show', 'start', 'stop', 'version', 'ls'];
const PROFILES: Record<string, string> = { administrator: 'aucro', operator: 'cro' };

/** The documented password rule; undefined when `password` passes. */
export function ilomPasswordProblem(password: string): string | undefined {
  if (password.length < 8 || password.length > 16) return 'Invalid password: must be 8 to 16 characters';
  if (/[: ]/.test(password)) return 'Invalid password: colons and spaces are not allowed';
  return undefined;
}

function roleOf(value: string): string | undefined {
  const profile = PROFILES[value.toLowerCase()];
  if (profile) return profile;
  return /^[aucros]+$/.test(value) ? value : undefined;
}

export function ilom(options: ServiceProcessorOptions = {}): ServiceProcessor {
  const accounts = new AccountTable();
  for (const user of options.users ?? [{ name: 'root', password: 'changeme', privileges: 'aucros' }]) accounts.add(user);
  const unexpected: string[] = [];
  const can = (name: string, role: string): boolean => (accounts.get(name)?.privileges ?? '').includes(role);

  const show = (path: string): string | undefined => {
    if (path === USERS) {
      const targets = accounts.names().map((n) => `        ${n}\n`).join('');
      return `\n /SP/users\n    Targets:\n${targets}\n    Properties:\n\n    Commands:\n        cd\n        create\n        delete\n        show\n\n`;
    }
    const account = path.startsWith(USERS + '/') ? accounts.get(path.slice(USERS.length + 1)) : undefined;
    if (account) {
      return (
        `\n ${path}\n    Targets:\n        ssh\n\n    Properties:\n        role = ${account.privileges}\n` +
        `        password = *****\n\n    Commands:\n        cd\n        set\n        show\n\n`
      );
    }
    if (path === '/' || path === '/SP') {
      return `\n ${path}\n    Targets:\n        ${path === '/' ? 'SP' : 'users'}\n\n    Properties:\n\n    Commands:\n        cd\n        show\n\n`;
    }
    return undefined;
  };

  async function session(term: Terminal, login: LoginInfo): Promise<void> {
    const me = login.username ?? '';
    let cwd = '/';
    await term.print(
      '\nOracle(R) Integrated Lights Out Manager\n\nVersion 3.2.8.0\n\n' +
        'Copyright (c) 2019, Oracle and/or its affiliates. All rights reserved.\n\n',
    );

    /** Reads the new password (both prompts unless `given`); undefined when they differ or the session ended. */
    const readNew = async (verb: string, given: string | undefined): Promise<string | undefined> => {
      const first = given ?? (await term.read('Enter new password: ', { echo: false }));
      if (first === undefined) return undefined;
      const again = await term.read('Enter new password again: ', { echo: false });
      if (again === undefined) return undefined;
      if (again !== first) {
        await term.print(`${verb}: Passwords do not match\n`);
        return undefined;
      }
      return first;
    };

    const set = async (path: string, properties: Map<string, string>, bare: string[]): Promise<void> => {
      const name = path.startsWith(USERS + '/') ? path.slice(USERS.length + 1) : '';
      const account = name === '' || name.includes('/') ? undefined : accounts.get(name);
      if (!account) return void (await term.print(`set: Invalid target ${path}\n`));
      const interactive = bare.includes('password');
      for (const key of [...properties.keys(), ...bare]) {
        if (key !== 'password' && key !== 'role') return void (await term.print(`set: Invalid property ${key}\n`));
      }
      const own = account.name === me;
      if (!can(me, 'u') && (!own || properties.has('role'))) return void (await term.print('set: Permission denied\n'));
      const role = properties.get('role');
      if (role !== undefined && roleOf(role) === undefined) return void (await term.print(`set: Invalid property value ${role}\n`));
      if (properties.has('password') || interactive) {
        const given = properties.get('password');
        if (given !== undefined && ilomPasswordProblem(given)) return void (await term.print(`set: ${ilomPasswordProblem(given)}\n`));
        await term.print(`Changing password for user ${path}...\n`);
        const password = await readNew('set', given);
        if (password === undefined) return;
        const problem = ilomPasswordProblem(password);
        if (problem) return void (await term.print(`set: ${problem}\n`));
        const refused = term.refusal();
        if (refused !== undefined) return void (await term.print(`set: ${refused}\n`));
        accounts.setPassword(account.name, password);
        term.applied(`password of ${account.name}`);
        await term.print(`New password was successfully set for user ${path}\n`);
      }
      if (role !== undefined) {
        account.privileges = roleOf(role) ?? account.privileges;
        await term.print(`Set 'role' to '${role}'\n`);
      }
    };

    const create = async (path: string, extra: string | undefined, properties: Map<string, string>): Promise<void> => {
      const full = extra === undefined ? path : `${path}/${extra}`;
      const name = full.startsWith(USERS + '/') ? full.slice(USERS.length + 1) : '';
      if (name === '' || name.includes('/')) return void (await term.print(`create: Invalid target ${full}\n`));
      if (!can(me, 'u')) return void (await term.print('create: Permission denied\n'));
      if (accounts.get(name)) return void (await term.print(`create: Target already exists ${full}\n`));
      if (!/^[A-Za-z][^\s]{3,15}$/.test(name)) return void (await term.print(`create: Invalid target ${full}\n`));
      const role = roleOf(properties.get('role') ?? 'o');
      if (role === undefined) return void (await term.print(`create: Invalid property value ${properties.get('role') ?? ''}\n`));
      const given = properties.get('password');
      if (given !== undefined && ilomPasswordProblem(given)) return void (await term.print(`create: ${ilomPasswordProblem(given)}\n`));
      await term.print('Creating user...\n');
      const password = await readNew('create', given);
      if (password === undefined) return;
      const problem = ilomPasswordProblem(password);
      if (problem) return void (await term.print(`create: ${problem}\n`));
      accounts.add({ name, password, privileges: role });
      await term.print(`Created ${full}\n`);
    };

    const resolve = (target: string | undefined): string => {
      if (target === undefined) return cwd;
      const parts = (target.startsWith('/') ? [] : cwd.split('/')).concat(target.split('/'));
      const out: string[] = [];
      for (const part of parts) {
        if (part === '..') out.pop();
        else if (part !== '' && part !== '.') out.push(part);
      }
      return '/' + out.join('/');
    };

    await commandLoop(term, () => PROMPT, async (line) => {
      const verb = (line.split(/\s+/)[0] ?? '').toLowerCase();
      if (!VERBS.includes(verb)) {
        unexpected.push(line);
        return void (await term.print(`Invalid command '${verb}' - type help for a list of commands.\n\n`));
      }
      const command = parseClp(line);
      if (!command) return void (await term.print(`${verb}: Syntax error in command\n`));
      // `set TARGET password` (no value) is the interactive form: a bare "password" is a property there.
      const bare = command.targets.filter((t) => t === 'password');
      const [target, extra, ...more] = command.targets.filter((t) => t !== 'password');
      if (more.length > 0 || (extra !== undefined && verb !== 'create')) {
        return void (await term.print(`${verb}: Syntax error in command\n`));
      }
      const path = resolve(target);
      switch (verb) {
        case 'exit':
          return 'exit';
        case 'cd':
          if (!show(path)) return void (await term.print(`cd: Invalid target ${path}\n`));
          cwd = path;
          return void (await term.print(`${cwd}\n\n`));
        case 'show':
        case 'ls': {
          const body = show(path);
          return void (await term.print(body ?? `show: Invalid target ${path}\n`));
        }
        case 'set':
          if (command.properties.size === 0 && bare.length === 0) return void (await term.print('set: Syntax error in command\n'));
          return set(path, command.properties, bare);
        case 'create':
          return create(path, extra, command.properties);
        default:
          unexpected.push(line);
          return void (await term.print(`${verb}: Not supported by this target\n`));
      }
    });
  }

  return serviceProcessor(
    {
      name: 'ilom',
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
