/**
 * A Cisco IOS (12.x/15.x) device CLI for the device simulator core, written from:
 * - "Cisco IOS Configuration Fundamentals Command Reference": `configure terminal` (and
 *   `configure` asking "Configuring from terminal, memory, or network [terminal]? "), `copy
 *   running-config startup-config` ("Destination filename [startup-config]? ", "Building
 *   configuration...", "[OK]"), `write memory`, `write terminal`, `terminal length 0-512` (0: no
 *   paging), `show running-config`, `show startup-config`, the `| include|exclude|begin REGEX`
 *   output filters, `end`, Ctrl-Z, `exit`, `do` in configuration modes;
 * - "Cisco IOS Security Command Reference": `enable` ("Password: ", three tries, then "% Bad
 *   secrets" when an enable secret is set, "% Bad passwords" for an enable password, "% No
 *   password set" on a vty with neither; with neither set, a console line password serves as the
 *   enable password, as the `enable password` usage caution says), `disable`, and the commands of
 *   cisco-ios-config.ts;
 * - "Using the Cisco IOS Command-Line Interface" (Configuration Fundamentals Configuration
 *   Guide): prompts `Router>`, `Router#`, `Router(config)#`, `Router(config-line)#`, the
 *   " --More-- " prompt, `?` help, abbreviations and the error messages (cisco-cli.ts);
 * - "Cisco IOS Terminal Services Configuration Guide": the login ("User Access Verification",
 *   "Username: ", "Password: ", "% Login invalid").
 * Best guesses, not found in the documentation: the exec-mode answer to an unknown single word
 * (IOS takes it as a host name to Telnet to: "Translating ..." then "% Unknown command or computer
 * name, or unable to find computer address"), the wording for a startup configuration never saved.
 * Simplifications: every session is taken as arriving on vty 0 (its `login` mode and password);
 * over SSH a line with `login` and a password takes that password for any SSH user name (IOS
 * itself wants `login local` or AAA for SSH); a failed Telnet line-password login asks again and
 * hangs up after three tries without "% Bad passwords"; `exec-timeout` is kept but the core's
 * idle-timeout fault is what logs a session out. Commands listed but not simulated, and any line
 * IOS would reject as invalid, are recorded in `unexpected`, for a fixture to fail on.
 */
import { type CliArgs, type CliNode, errorText, help, parse, unsimulated } from './cisco-cli.js';
import { GLOBAL_COMMANDS, IosConfig, type IosConfigContext, LINE_COMMANDS, passwordMatches, secretMatches } from './cisco-ios-config.js';
import type { SecretType } from './cisco-secrets.js';
import type { Dialect, LoginInfo, Terminal } from './dialect.js';

export { IosConfig } from './cisco-ios-config.js';

export interface CiscoIosOptions {
  /** The hostname of a device without `config` (default "Router"). */
  readonly hostname?: string;
  /** A startup configuration to boot with (IOS configuration text); default: `line vty 0 15` with `login local`. */
  readonly config?: string;
  /** The type a clear-text `secret` is stored as (default 5, IOS 12/15's; 9 on IOS XE 16+). */
  readonly secretType?: SecretType;
}

export interface CiscoIos extends Dialect {
  /** The running configuration, as `show running-config` prints it (without its header). */
  running(): string;
  /** The startup configuration text ("" until the first save when booted without one). */
  startup(): string;
  /** The running configuration model, for tests that read a user or a line. */
  readonly config: IosConfig;
  /** Applies configuration lines as if typed in `configure terminal`; returns what IOS printed. */
  configure(text: string): string;
  /** Whether a user logs in with this password (against the running configuration). */
  checkUser(name: string, password: string): boolean;
  /** Whether `enable` takes this password. */
  checkEnable(password: string): boolean;
  /** Whether vty 0 (or the console) takes this line password. */
  checkLine(line: 'vty' | 'con', password: string): boolean;
  /** Lines the simulator could not take as IOS would, or commands it does not simulate. */
  readonly unexpected: string[];
  /**
   * The device's own log: every command line a session entered, as the configuration change
   * logger keeps it with `hidekeys` (Cisco IOS Configuration Fundamentals Command Reference,
   * `archive` / `log config` / `hidekeys`: "suppresses the display of password information in
   * configuration log files"), the words after `secret` or `password` (and their type digit)
   * shown as "*****"; and the login messages (%SEC_LOGIN-5-LOGIN_SUCCESS, -4-LOGIN_FAILED, as
   * the Security Configuration Guide's "Cisco IOS Login Enhancements" shows them).
   */
  readonly log: string[];
}

/** A command line as `hidekeys` logs it. */
export function hideKeys(line: string): string {
  return line.replace(/\b(secret|password)\b(?:\s+\d(?=\s))?\s+\S.*$/i, '$1 *****');
}

interface Grant {
  readonly privilege: number;
}

interface Session extends IosConfigContext {
  privilege: number;
  readonly term: Terminal | undefined;
}

const MORE = ' --More-- ';

export function ciscoIos(options: CiscoIosOptions = {}): CiscoIos {
  const config = new IosConfig();
  let startup = '';
  const unexpected: string[] = [];
  const log: string[] = [];
  const secretType = options.secretType ?? 5;

  const offline = (out: string[]): Session => ({
    config,
    secretType,
    print: async (t) => void out.push(t),
    refusal: () => undefined,
    applied: () => undefined,
    mode: 'config',
    lines: [],
    privilege: 15,
    term: undefined,
  });

  /**
   * Runs configuration text as IOS does at boot or for `configure(...)`: indented lines go to the
   * last `line`. Synchronous: every configuration command acts before its first await (only
   * printing waits, and offline printing is a push).
   */
  function load(text: string): string {
    const out: string[] = [];
    const s = offline(out);
    for (const raw of text.split(/\r?\n/)) {
      if (/^\s*(!.*)?$/.test(raw) || /^(end|version |Building configuration|Current configuration|Using \d+)/.test(raw)) continue;
      if (!/^\s/.test(raw)) s.mode = 'config';
      void configLine(s, raw.trim(), 0);
    }
    return out.join('');
  }

  const checkEnable = (password: string): boolean => {
    if (config.enableSecret) return secretMatches(config.enableSecret, password);
    if (config.enablePassword) return passwordMatches(config.enablePassword, password);
    return config.con.password !== undefined && passwordMatches(config.con.password, password);
  };

  // ------------------------------------------------------------------ exec commands

  const priv15 = (s: Session) => s.privilege >= 15;
  const filters: CliNode<Session>[] = [
    {
      keyword: '|',
      help: 'Output modifiers',
      children: ['include', 'exclude', 'begin'].map((k) => ({
        keyword: k,
        help: { include: 'Include lines that match', exclude: 'Exclude lines that match', begin: 'Begin with the line that matches' }[k]!,
        children: [{ arg: 'LINE' as const, name: 'regex', help: 'Regular Expression', run: undefined }],
      })),
    },
  ];
  // The filters' runs are set per command below (the regex applies to that command's output).
  const withFilter = (show: (s: Session) => string): Pick<CliNode<Session>, 'run' | 'children'> => ({
    run: (s) => s.term!.print(show(s)),
    children: filters.map((f) => ({
      ...f,
      children: f.children!.map((k) => ({
        ...k,
        children: k.children!.map((r) => ({ ...r, run: (s: Session, a: CliArgs) => s.term!.print(filter(show(s), a.keywords.at(-1)!, a.values.regex!)) })),
      })),
    })),
  });

  const runningText = () => {
    const body = config.render();
    return `Building configuration...\n\nCurrent configuration : ${Buffer.byteLength(body)} bytes\n${body}`;
  };
  const startupText = () => (startup === '' ? 'startup-config is not present\n' : `Using ${Buffer.byteLength(startup)} out of 262136 bytes\n${startup}`);
  const save = async (s: Session) => {
    startup = config.render();
    // s.print, not the terminal: `do write memory` also runs offline (configure()).
    await s.print('Building configuration...\n[OK]\n');
  };

  const EXEC: CliNode<Session>[] = [
    {
      keyword: 'enable',
      help: 'Turn on privileged commands',
      run: (s) => enable(s),
      children: [{ arg: [0, 15], name: 'level', help: 'Enable level', run: (s, a) => (a.values.level === '15' ? enable(s) : void unexpected.push(`enable ${a.values.level}`)) }],
    },
    { keyword: 'disable', help: 'Turn off privileged commands', run: (s) => void (s.privilege = 1) },
    {
      keyword: 'configure',
      help: 'Enter configuration mode',
      when: priv15,
      run: async (s) => {
        const answer = await s.term!.read('Configuring from terminal, memory, or network [terminal]? ');
        if (answer === undefined) return;
        if (answer.trim() === '' || 'terminal'.startsWith(answer.trim().toLowerCase())) return enterConfig(s);
        unexpected.push(`configure: ${answer}`);
      },
      children: [
        { keyword: 'terminal', help: 'Configure from the terminal', run: (s) => enterConfig(s) },
        ...unsimulated<Session>([['memory', 'Configure from NV memory'], ['network', 'Configure from a TFTP network host'], ['replace', 'Replace the running-config with a new config file'], ['confirm', 'Confirm replacement of running-config with a new config file']]),
      ],
    },
    {
      keyword: 'copy',
      help: 'Copy from one file to another',
      when: priv15,
      children: [
        {
          keyword: 'running-config',
          help: 'Copy from current system configuration',
          children: [
            {
              keyword: 'startup-config',
              help: 'Copy to startup configuration',
              run: async (s) => {
                const answer = await s.term!.read('Destination filename [startup-config]? ');
                if (answer === undefined) return;
                if (answer.trim() === '' || answer.trim() === 'startup-config') return save(s);
                unexpected.push(`copy running-config ${answer}`);
              },
            },
            ...unsimulated<Session>([['flash:', 'Copy to flash: file system'], ['tftp:', 'Copy to tftp: file system'], ['scp:', 'Copy to scp: file system'], ['nvram:', 'Copy to nvram: file system']]),
          ],
        },
        ...unsimulated<Session>([['startup-config', 'Copy from startup configuration'], ['flash:', 'Copy from flash: file system'], ['tftp:', 'Copy from tftp: file system'], ['scp:', 'Copy from scp: file system'], ['nvram:', 'Copy from nvram: file system'], ['system:', 'Copy from system: file system']]),
      ],
    },
    {
      keyword: 'write',
      help: 'Write running configuration to memory, network, or terminal',
      when: priv15,
      run: save,
      children: [
        { keyword: 'memory', help: 'Write to NV memory', run: save },
        { keyword: 'terminal', help: 'Write to terminal', run: (s) => s.term!.print(runningText()) },
        ...unsimulated<Session>([['erase', 'Erase NV memory'], ['network', 'Write to network TFTP server']]),
      ],
    },
    {
      keyword: 'show',
      help: 'Show running system information',
      children: [
        { keyword: 'running-config', help: 'Current operating configuration', when: priv15, ...withFilter(runningText) },
        { keyword: 'startup-config', help: 'Contents of startup configuration', when: priv15, ...withFilter(startupText) },
        { keyword: 'privilege', help: 'Show current privilege level', run: (s) => s.term!.print(`Current privilege level is ${s.privilege}\n`) },
        ...unsimulated<Session>([['clock', 'Display the system clock'], ['history', 'Display the session command history'], ['interfaces', 'Interface status and configuration'], ['ip', 'IP information'], ['users', 'Display information about terminal lines'], ['version', 'System hardware and software status'], ['terminal', 'Display terminal configuration parameters'], ['sessions', 'Information about Telnet connections']]),
      ],
    },
    {
      keyword: 'terminal',
      help: 'Set terminal line parameters',
      children: [
        { keyword: 'length', help: 'Set number of lines on a screen', children: [{ arg: [0, 512], name: 'n', help: 'Number of lines on screen (0 for no pausing)', run: (s, a) => void (s.term!.pageLength = Number(a.values.n)) }] },
        { keyword: 'width', help: 'Set width of the display terminal', children: [{ arg: [0, 512], name: 'n', help: 'Number of characters on a screen line', run: () => undefined }] },
        ...unsimulated<Session>([['monitor', 'Copy debug output to the current terminal line'], ['no', 'Negate a command or set its defaults']]),
      ],
    },
    { keyword: 'logout', help: 'Exit from the EXEC', run: (s) => s.term!.close() },
    { keyword: 'exit', help: 'Exit from the EXEC', run: (s) => s.term!.close() },
    { keyword: 'quit', help: 'Exit from the EXEC', run: (s) => s.term!.close() },
    ...unsimulated<Session>([['connect', 'Open a terminal connection'], ['ping', 'Send echo messages'], ['ssh', 'Open a secure shell client connection'], ['telnet', 'Open a telnet connection'], ['traceroute', 'Trace route to destination']]),
    ...unsimulated<Session>(
      [['clear', 'Reset functions'], ['clock', 'Manage the system clock'], ['debug', 'Debugging functions (see also \'undebug\')'], ['delete', 'Delete a file'], ['dir', 'List files on a filesystem'], ['erase', 'Erase a filesystem'], ['more', 'Display the contents of a file'], ['reload', 'Halt and perform a cold restart'], ['setup', 'Run the SETUP command facility'], ['undebug', 'Disable debugging functions (see also \'debug\')'], ['verify', 'Verify a file']],
      priv15,
    ),
  ];

  async function enable(s: Session): Promise<void> {
    if (s.privilege >= 15) return;
    if (!config.enableSecret && !config.enablePassword && !config.con.password) return s.term!.print('% No password set\n');
    for (let i = 0; i < 3; i++) {
      const password = await s.term!.read('Password: ', { echo: false });
      if (password === undefined) return;
      if (checkEnable(password)) {
        s.privilege = 15;
        return;
      }
    }
    await s.term!.print(config.enableSecret ? '% Bad secrets\n\n' : '% Bad passwords\n\n');
  }

  async function enterConfig(s: Session): Promise<void> {
    await s.term!.print('Enter configuration commands, one per line.  End with CNTL/Z.\n');
    s.mode = 'config';
  }

  // ------------------------------------------------------------------ configuration modes

  const modeCommands = (extra: CliNode<Session>[]): CliNode<Session>[] => [
    ...extra,
    { keyword: 'end', help: 'Exit from configure mode', run: (s) => void (s.mode = 'exec') },
    { keyword: 'exit', help: 'Exit from the current mode', run: (s) => void (s.mode = s.mode === 'config-line' ? 'config' : 'exec') },
    { keyword: 'do', help: 'To run exec commands in config mode', children: [{ arg: 'LINE', name: 'command', help: 'Exec Command', run: (s, a) => execLine(s, a.values.command!, 0, true) }] },
  ];
  const GLOBAL = modeCommands(GLOBAL_COMMANDS);
  const LINE = modeCommands(LINE_COMMANDS);

  /** One line in a configuration mode; a line mode takes global commands too, and leaves for them. */
  async function configLine(s: Session, line: string, promptLength: number): Promise<void> {
    const result = parse(line, s.mode === 'config-line' ? LINE : GLOBAL, s);
    if (result.kind === 'invalid' && s.mode === 'config-line') {
      const global = parse(line, GLOBAL, s);
      if (global.kind === 'ok') {
        s.mode = 'config';
        return void (await global.node.run!(s, global.args));
      }
    }
    return dispatch(s, line, result, promptLength);
  }

  async function execLine(s: Session, line: string, promptLength: number, fromConfig = false): Promise<void> {
    const session = fromConfig ? { ...s, privilege: 15, mode: 'exec' as const } : s;
    const result = parse(line, EXEC, session);
    if (result.kind === 'invalid' && result.tokenIndex === 0 && !fromConfig && !/\s/.test(line.trim())) {
      unexpected.push(line);
      return s.print(`Translating "${line.trim()}"...domain server (255.255.255.255)\n% Unknown command or computer name, or unable to find computer address\n`);
    }
    await dispatch(session, line, result, promptLength);
    if (fromConfig) s.privilege = session.privilege;
  }

  async function dispatch(s: Session, line: string, result: ReturnType<typeof parse<Session>>, promptLength: number): Promise<void> {
    if (result.kind === 'ok') return void (await result.node.run!(s, result.args));
    if (result.kind === 'empty') return;
    if (result.kind === 'unsimulated' || result.kind === 'invalid') unexpected.push(line);
    if (result.kind !== 'unsimulated') await s.print(errorText(result, promptLength));
  }

  const prompt = (s: Session) => `${config.hostname}${s.mode === 'config' ? '(config)' : s.mode === 'config-line' ? '(config-line)' : ''}${s.privilege >= 15 ? '#' : '>'}`;

  async function session(term: Terminal, login: LoginInfo): Promise<void> {
    const s: Session = {
      config,
      secretType,
      print: (t) => term.print(t),
      refusal: () => term.refusal(),
      applied: (what) => term.applied(what),
      mode: 'exec',
      lines: [],
      privilege: (login.grant as Grant).privilege,
      term,
    };
    while (!term.closed) {
      const p = prompt(s);
      const line = await term.read(p, { help: true });
      if (line === undefined) return;
      if (line.trim() !== '') log.push(`%PARSER-5-CFGLOG_LOGGEDCMD: User:${login.username ?? 'console'} logged command:${hideKeys(line)}`);
      if (line.endsWith('?')) {
        const roots = s.mode === 'exec' ? EXEC : s.mode === 'config' ? GLOBAL : LINE;
        const heading = s.mode === 'exec' ? 'Exec commands:' : s.mode === 'config' ? 'Configure commands:' : 'Line configuration commands:';
        const h = help(line, roots, s, heading);
        await term.print('text' in h ? h.text : errorText(h.error, p.length));
        continue;
      }
      const ctrlZ = line.endsWith('\x1a');
      const text = ctrlZ ? line.slice(0, -1) : line;
      if (text.trim() !== '') await (s.mode === 'exec' ? execLine(s, text, p.length) : configLine(s, text, p.length));
      if (ctrlZ && s.mode !== 'exec') s.mode = 'exec';
    }
  }

  if (options.config !== undefined) {
    load(options.config);
    startup = options.config;
  } else load(`hostname ${options.hostname ?? 'Router'}\nline vty 0 15\n login local\n`);

  return {
    name: 'cisco-ios',
    login: {
      usernameRequired: () => config.vty[0]!.login === 'local',
      usernamePrompt: 'Username: ',
      passwordPrompt: 'Password: ',
      get failed() {
        return config.vty[0]!.login === 'local' ? '% Login invalid\n\n' : '';
      },
      attempts: 3,
      banner: () => (config.vty[0]!.login === 'none' ? '' : '\n\nUser Access Verification\n\n'),
      authenticate(username, password): Grant | undefined {
        const vty = config.vty[0]!;
        if (vty.login === 'none') return { privilege: 1 };
        if (vty.login === 'line') return passwordMatches(vty.password, password) ? { privilege: 1 } : undefined;
        const user = username === undefined ? undefined : config.users.get(username);
        if (!user || !(user.secret ? secretMatches(user.secret, password) : passwordMatches(user.password, password))) {
          log.push(`%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: ${username ?? ''}] [Source: 127.0.0.1] [localport: 22] [Reason: Login Authentication Failed]`);
          return undefined;
        }
        log.push(`%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: ${username}] [Source: 127.0.0.1] [localport: 22]`);
        return { privilege: user.privilege };
      },
    },
    paging: { lines: 24, more: MORE, erase: '\b'.repeat(MORE.length) + ' '.repeat(MORE.length) + '\b'.repeat(MORE.length) },
    session,
    running: () => config.render(),
    startup: () => startup,
    get config() {
      return config;
    },
    configure: load,
    checkUser(name, password) {
      const user = config.users.get(name);
      return user !== undefined && (user.secret ? secretMatches(user.secret, password) : passwordMatches(user.password, password));
    },
    checkEnable,
    checkLine: (line, password) => passwordMatches(line === 'con' ? config.con.password : config.vty[0]!.password, password),
    unexpected,
    log,
  };
}

/** IOS output filters: the regex is IOS's ("Regular Expressions" appendix of the Terminal Services Configuration Guide), where `_` matches a delimiter (start, end, space, comma, braces, parentheses) and a backslash escapes a special character. */
function filter(text: string, how: string, regex: string): string {
  // A backslash escapes the next character, `\\_` an underscore itself.
  const re = new RegExp(regex.replace(/(?<!\\)_/g, '(?:^|$|[\\s,{}()])'));
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let kept: string[];
  if (how === 'include') kept = lines.filter((l) => re.test(l));
  else if (how === 'exclude') kept = lines.filter((l) => !re.test(l));
  else {
    const i = lines.findIndex((l) => re.test(l));
    kept = i < 0 ? [] : lines.slice(i);
  }
  return kept.map((l) => l + '\n').join('');
}
