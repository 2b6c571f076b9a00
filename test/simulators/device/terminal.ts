/**
 * One session's terminal, the same for SSH and Telnet (server.ts hands it decoded characters and
 * a raw writer): echo, line editing, line endings, paging with the dialect's more prompt, the
 * Telnet login conversation and the per-test faults. It knows nothing of any vendor; what a
 * vendor prints comes from the dialect (dialect.ts).
 *
 * Keys, as terminal servers and device CLIs take them: Backspace (^H) and DEL erase one character
 * ("\b \b"), ^U erases the line; CR, LF, CR LF and CR NUL each end one line; `?` on a line read
 * with `help` ends it at once (echoed, then a new line) and the text before it is typed again after
 * the next prompt, as IOS does after its help; ^Z ends a line with "\x1a" appended (echoed "^Z"),
 * which IOS-style dialects take as `end`. Other control characters are ignored.
 */
import type { DeviceFaults, Dialect, LoginInfo, Terminal } from './dialect.js';

/** The simulator's fault switches, shared by its sessions; one-shot faults are used up by whoever meets them. */
export class FaultSwitch {
  #faults: DeviceFaults = {};

  set(faults: DeviceFaults): void {
    this.#faults = { ...faults };
  }

  get current(): DeviceFaults {
    return this.#faults;
  }

  /** Takes a one-shot fault out of the set. */
  use(key: 'cut' | 'refuse'): void {
    const { [key]: _used, ...rest } = this.#faults;
    this.#faults = rest;
  }
}

/** What a transport gives a terminal. */
export interface TerminalWire {
  readonly transport: 'ssh' | 'telnet';
  /** Sends text as it is (the terminal has already turned "\n" into "\r\n"). */
  write(text: string): void;
  /** Closes the connection after what was written, as a logout does. */
  end(): void;
  /** Drops the connection at once, with nothing more sent (a cut). */
  destroy(): void;
}

type Waiter = (ch: string | undefined) => void;

const SLOW_PIECE = 3;

export class SessionTerminal implements Terminal {
  readonly transport: 'ssh' | 'telnet';
  pageLength: number;
  readonly #wire: TerminalWire;
  readonly #dialect: Dialect;
  readonly #faults: FaultSwitch;
  readonly #onClose: () => void;
  #input: string[] = [];
  #waiter: Waiter | undefined;
  #afterCr = false;
  #closed = false;
  /** `close()` was called: the session counts as ended while its last output goes out. */
  #closing = false;
  #out: Promise<void> = Promise.resolve();
  /** Lines printed since the last read or more prompt, for paging. */
  #lines = 0;
  /** The rest of one command's output is dropped (a quit key at the more prompt). */
  #dropping = false;
  /** The line typed before a `?`, typed again after the next prompt. */
  #carry = '';
  #idle: NodeJS.Timeout | undefined;

  constructor(wire: TerminalWire, dialect: Dialect, faults: FaultSwitch, onClose: () => void) {
    this.transport = wire.transport;
    this.#wire = wire;
    this.#dialect = dialect;
    this.#faults = faults;
    this.#onClose = onClose;
    this.pageLength = dialect.paging.lines;
  }

  get closed(): boolean {
    return this.#closed || this.#closing;
  }

  /** Characters from the client, decoded by the transport. */
  receive(text: string): void {
    for (const ch of text) {
      if (this.#afterCr && (ch === '\n' || ch === '\0')) {
        this.#afterCr = false;
        continue;
      }
      this.#afterCr = ch === '\r';
      this.#input.push(ch === '\n' ? '\r' : ch);
    }
    this.#wake();
  }

  /** The transport ended (client gone). */
  ended(): void {
    this.#finish();
  }

  print(text: string): Promise<void> {
    return this.#page(text);
  }

  async read(prompt: string, options: { readonly echo?: boolean; readonly help?: boolean } = {}): Promise<string | undefined> {
    const echo = options.echo ?? true;
    this.#startOutput();
    let line = echo && options.help ? this.#carry : '';
    this.#carry = '';
    await this.#send(prompt + (echo ? line : ''));
    for (;;) {
      const ch = await this.#next();
      if (ch === undefined) return undefined;
      if (ch === '\r') {
        await this.#send('\n');
        return this.#received(line);
      }
      if (ch === '\b' || ch === '\x7f') {
        if (line.length > 0) {
          line = line.slice(0, -1);
          if (echo) await this.#send('\b \b');
        }
      } else if (ch === '\x15') {
        if (echo) await this.#send('\b \b'.repeat(line.length));
        line = '';
      } else if (ch === '?' && echo && options.help) {
        await this.#send('?\n');
        this.#carry = line;
        return this.#received(line + '?');
      } else if (ch === '\x1a') {
        if (echo) await this.#send('^Z\n');
        return this.#received(line + '\x1a');
      } else if (ch >= ' ') {
        line += ch;
        if (echo) await this.#send(ch);
      }
    }
  }

  async key(prompt: string): Promise<string | undefined> {
    this.#startOutput();
    await this.#send(prompt);
    return this.#next();
  }

  applied(_what: string): void {
    if (this.#faults.current.cut?.cut !== 'applied') return;
    this.#faults.use('cut');
    this.#cut();
  }

  refusal(): string | undefined {
    const message = this.#faults.current.refuse;
    if (message !== undefined) this.#faults.use('refuse');
    return message;
  }

  close(): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    this.#wake();
    void this.#out.then(() => {
      this.#wire.end();
      this.#finish();
    });
  }

  /** Runs the Telnet login the dialect describes; undefined when the client failed or left. */
  async telnetLogin(): Promise<LoginInfo | undefined> {
    const login = this.#dialect.login;
    const banner = login.banner?.();
    if (banner) await this.print(banner);
    if (login.beforeLogin) {
      const before = await login.beforeLogin(this);
      if (before !== 'ask') return before;
    }
    for (let attempt = 0; attempt < login.attempts; attempt++) {
      let username: string | undefined;
      if (login.usernameRequired()) {
        username = await this.read(login.usernamePrompt);
        if (username === undefined) return undefined;
      }
      const password = await this.read(login.passwordPrompt, { echo: false });
      if (password === undefined) return undefined;
      const grant = login.authenticate(username, password, 'telnet');
      if (grant) return { username, grant };
      await this.print(login.failed);
    }
    this.close();
    return undefined;
  }

  // ------------------------------------------------------------------ input

  #wake(): void {
    if (this.#waiter && (this.#input.length > 0 || this.#closed || this.#closing)) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter(this.#closed || this.#closing ? undefined : this.#input.shift());
    }
  }

  /** The next character, or undefined once the session ended; an idle session is logged out. */
  #next(): Promise<string | undefined> {
    if (this.#closed || this.#closing) return Promise.resolve(undefined);
    if (this.#input.length > 0) return Promise.resolve(this.#input.shift());
    return new Promise<string | undefined>((resolve) => {
      const idleMs = this.#faults.current.idleTimeoutMs;
      if (idleMs !== undefined) this.#idle = setTimeout(() => this.#idleLogout(), idleMs);
      this.#waiter = (ch) => {
        clearTimeout(this.#idle);
        resolve(ch);
      };
    });
  }

  #idleLogout(): void {
    const words = this.#dialect.idleLogout;
    if (words) void this.#send(words);
    this.close();
  }

  /** A line the client entered: a `received` cut drops the connection before the dialect sees it. */
  #received(line: string): string | undefined {
    const cut = this.#faults.current.cut;
    if (cut?.cut === 'received' && cut.line.test(line)) {
      this.#faults.use('cut');
      this.#cut();
      return undefined;
    }
    return line;
  }

  // ------------------------------------------------------------------ output

  #startOutput(): void {
    this.#lines = 0;
    this.#dropping = false;
  }

  /**
   * Prints text a page at a time: a page is the page length less the line the more prompt takes,
   * and the prompt shows only when more output follows a full page.
   */
  async #page(text: string): Promise<void> {
    let rest = text;
    while (rest.length > 0 && !this.#dropping && !this.#closed) {
      const rows = this.pageLength > 0 ? this.pageLength - 1 : 0;
      if (rows <= 0) return this.#send(rest);
      if (this.#lines >= rows) {
        this.#lines = await this.#more(rows);
        continue;
      }
      let lines = this.#lines;
      let end = rest.length;
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '\n' && ++lines >= rows) {
          end = i + 1;
          break;
        }
      }
      this.#lines = lines;
      await this.#send(rest.slice(0, end));
      rest = rest.slice(end);
    }
  }

  /** Shows the more prompt; returns how many lines the next stretch starts with already counted. */
  async #more(pageRows: number): Promise<number> {
    const paging = this.#dialect.paging;
    const quit = paging.quitKeys ?? ['q', '\x03'];
    await this.#send(paging.more);
    for (;;) {
      const key = await this.#next();
      if (key === undefined) return 0;
      if (key === ' ' || key === '\r' || quit.includes(key)) {
        await this.#send(paging.erase);
        if (quit.includes(key)) this.#dropping = true;
        return key === '\r' ? pageRows - 1 : 0;
      }
    }
  }

  /** Writes in order; "\n" goes out as "\r\n"; slow output is held and sent in small pieces. */
  #send(text: string): Promise<void> {
    const wire = text.replace(/\r?\n/g, '\r\n');
    this.#out = this.#out.then(async () => {
      if (this.#closed || wire.length === 0) return;
      const slowMs = this.#faults.current.slowOutputMs;
      if (slowMs === undefined) return this.#wire.write(wire);
      await delay(slowMs);
      for (let i = 0; i < wire.length && !this.#closed; i += SLOW_PIECE) {
        this.#wire.write(wire.slice(i, i + SLOW_PIECE));
        await delay(1);
      }
    });
    return this.#out;
  }

  #cut(): void {
    this.#wire.destroy();
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#idle);
    this.#onClose();
    this.#wake();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
