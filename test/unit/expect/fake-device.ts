import { COMMON_ERROR_MARKERS, type DeviceDialect } from '../../../layers/expect/device.js';
import { FakeStream } from './fake-stream.js';

/**
 * A small IOS-flavoured device CLI on a FakeStream, for the device session's unit tests (the
 * faithful vendor simulators live under test/simulators/device/): it echoes what is typed except
 * at password prompts, enforces its login and enable password, and knows a handful of commands.
 */
export interface FakeDeviceOptions {
  /** Undefined: the login asks for the password alone (a line password). */
  readonly username?: string;
  readonly password: string;
  readonly enable?: string;
  /** The transport authenticated already: the prompt comes at once. */
  readonly noLogin?: boolean;
  /** A "Press any key to continue" banner before the login. */
  readonly pressAnyKey?: boolean;
  /** Whether `terminal length 0` is taken; otherwise long output pages at 10 lines. */
  readonly pagingOff?: boolean;
  /** Privileged at login (a privilege 15 account). */
  readonly privileged?: boolean;
}

export const FAKE_DIALECT: DeviceDialect = {
  prompts: { user: /(?:^|\n)R1>/, privileged: /(?:^|\n)R1#/, configuration: /(?:^|\n)R1\(config[^)]*\)#/ },
  login: { username: /Username: ?/, password: /Password: ?/, failed: /% Login invalid|% Authentication failed/ },
  paging: { off: ['terminal length 0'], more: [/ --More-- /] },
  pressAnyKey: /Press any key to continue/,
  errors: COMMON_ERROR_MARKERS,
  enable: { command: 'enable', password: /Password: ?/, refused: /% Access denied|% Bad secrets/ },
  configuration: { enter: 'configure terminal', leave: 'end' },
  save: { command: 'copy running-config startup-config', confirmations: [{ pattern: /Destination filename \[startup-config\]\? ?$/, answer: '' }], success: /\[OK\]/ },
  logout: { command: 'exit', questions: [{ pattern: /Do you want to log out \[y\/n\]\? ?$/, answer: 'y' }] },
};

type State = 'banner' | 'username' | 'password' | 'cli' | 'enable' | 'new' | 'retype' | 'confirm' | 'more' | 'logout?' | 'dead';

export class FakeDevice {
  readonly stream = new FakeStream();
  readonly users = new Map<string, { form: 'secret' | 'password'; value: string }>();
  mode: 'user' | 'privileged' | 'configuration' = 'user';
  startup = '';
  running = 'initial';
  paging = true;
  /** Lines the device took, in order. */
  readonly lines: string[] = [];
  /** Called with each CLI line before the built-in commands; return true when handled. */
  custom: ((line: string, d: FakeDevice) => boolean) | undefined;
  /** Ask "Do you want to log out [y/n]?" on exit. */
  askOnLogout = false;
  #state: State = 'username';
  #input = '';
  #loginUser: string | undefined;
  #pendingMore: string[] = [];
  #newPassword = '';
  readonly #o: FakeDeviceOptions;

  constructor(options: FakeDeviceOptions) {
    this.#o = options;
    this.stream.onWrite = (text) => this.#typed(text);
  }

  /** The greeting; call after DeviceSession.open has subscribed (i.e. right after calling it). */
  start(): void {
    if (this.#o.pressAnyKey) {
      this.#state = 'banner';
      this.say('HP J9019A Switch 2510-24\r\n\r\nPress any key to continue');
    } else this.#greet();
  }

  say(text: string): void {
    if (this.#state !== 'dead') this.stream.push(text);
  }

  prompt(): void {
    this.#state = 'cli';
    this.say(this.mode === 'configuration' ? '\r\nR1(config)#' : this.mode === 'privileged' ? '\r\nR1#' : '\r\nR1>');
  }

  hangUp(): void {
    this.#state = 'dead';
    this.stream.emitClose({});
  }

  #greet(): void {
    if (this.#o.noLogin) return this.#loggedIn();
    if (this.#o.username === undefined) {
      this.#state = 'password';
      this.say('\r\nUser Access Verification\r\n\r\nPassword: ');
    } else {
      this.#state = 'username';
      this.say('\r\nUser Access Verification\r\n\r\nUsername: ');
    }
  }

  #loggedIn(): void {
    this.mode = this.#o.privileged ? 'privileged' : 'user';
    this.prompt();
  }

  #echoes(): boolean {
    return this.#state === 'username' || this.#state === 'cli' || this.#state === 'confirm';
  }

  #typed(text: string): void {
    for (const ch of text) {
      if (this.#state === 'dead') return;
      if (this.#state === 'logout?') {
        if (ch === 'y') this.hangUp();
        else if (ch === 'n') this.prompt();
        continue;
      }
      if (this.#state === 'banner' || this.#state === 'more') {
        this.#key(ch);
        continue;
      }
      if (ch === '\r') continue;
      if (ch === '\n') {
        const line = this.#input;
        this.#input = '';
        if (this.#echoes()) this.say('\r\n');
        this.#line(line);
        continue;
      }
      this.#input += ch;
      if (this.#echoes()) this.say(ch);
    }
  }

  #key(ch: string): void {
    if (this.#state === 'banner') return this.#greet();
    // More: the erasure the IOS core prints, then the next page.
    this.say('\b'.repeat(10) + ' '.repeat(10) + '\b'.repeat(10));
    this.#state = 'cli';
    if (ch === ' ') this.#page();
    else this.prompt();
  }

  #print(lines: string[]): void {
    this.#pendingMore = lines;
    this.#page();
  }

  #page(): void {
    const page = this.paging ? this.#pendingMore.splice(0, 10) : this.#pendingMore.splice(0);
    this.say(page.map((l) => `${l}\r\n`).join(''));
    if (this.#pendingMore.length) {
      this.#state = 'more';
      this.say(' --More-- ');
    } else this.prompt();
  }

  #line(line: string): void {
    switch (this.#state) {
      case 'username':
        this.#loginUser = line;
        this.#state = 'password';
        return this.say('Password: ');
      case 'password':
        if (line === this.#o.password && this.#loginUser === this.#o.username) return this.#loggedIn();
        this.say('\r\n% Login invalid\r\n\r\n');
        return this.#greet();
      case 'enable':
        if (line === this.#o.enable) this.mode = 'privileged';
        else this.say('% Access denied\r\n');
        return this.prompt();
      case 'new':
        this.#newPassword = line;
        this.#state = 'retype';
        return this.say('Please retype new password: ');
      case 'retype':
        if (line === this.#newPassword) {
          this.users.set('manager', { form: 'password', value: line });
          this.say('Password updated.\r\n');
        } else this.say('Passwords do not match\r\n');
        return this.prompt();
      case 'confirm':
        this.startup = this.running;
        this.say('Building configuration...\r\n[OK]\r\n');
        return this.prompt();
      default:
        return this.#command(line);
    }
  }

  #command(line: string): void {
    this.lines.push(line);
    if (this.custom?.(line, this)) return;
    const words = line.trim().split(/\s+/);
    const cmd = words.join(' ');
    if (cmd === 'terminal length 0') {
      if (this.#o.pagingOff) this.paging = false;
      else this.say("                 ^\r\n% Invalid input detected at '^' marker.\r\n");
      return this.prompt();
    }
    if (cmd === 'show long') return this.#print(Array.from({ length: 25 }, (_, i) => `line ${i + 1}`));
    if (cmd === 'enable') {
      if (this.mode !== 'user') return this.prompt();
      this.#state = 'enable';
      return this.say('Password: ');
    }
    if (cmd === 'configure terminal' && this.mode === 'privileged') {
      this.mode = 'configuration';
      this.say('Enter configuration commands, one per line.  End with CNTL/Z.\r\n');
      return this.prompt();
    }
    if (cmd === 'end' && this.mode === 'configuration') {
      this.mode = 'privileged';
      return this.prompt();
    }
    if (words[0] === 'username' && words.length === 4 && (words[2] === 'secret' || words[2] === 'password') && this.mode === 'configuration') {
      const [, name, form, value] = words as [string, string, 'secret' | 'password', string];
      const had = this.users.get(name);
      if (had && had.form !== form) {
        this.say(`% Can not have both a user password and a user secret.\r\n% Please choose one or the other.\r\n`);
        return this.prompt();
      }
      this.users.set(name, { form, value });
      this.running = `changed ${name}`;
      return this.prompt();
    }
    if (cmd === 'password manager' && this.mode === 'configuration') {
      this.#state = 'new';
      return this.say('New password: ');
    }
    if (cmd === 'copy running-config startup-config' && this.mode === 'privileged') {
      this.#state = 'confirm';
      return this.say('Destination filename [startup-config]? ');
    }
    if (cmd === 'exit' || cmd === 'logout') {
      if (this.mode === 'configuration') {
        this.mode = 'privileged';
        return this.prompt();
      }
      if (this.askOnLogout) {
        this.#state = 'logout?';
        return this.say('Do you want to log out [y/n]? ');
      }
      return this.hangUp();
    }
    this.say("                 ^\r\n% Invalid input detected at '^' marker.\r\n");
    return this.prompt();
  }
}
