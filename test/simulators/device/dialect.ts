/**
 * The seam between the device simulators' shared server core (server.ts: SSH with ssh2's server,
 * Telnet with real option negotiation; terminal.ts: echo, line editing, paging, faults) and one
 * vendor's CLI (cisco-ios.ts, cisco-catos.ts, ...). A dialect is written from the vendor's CLI
 * reference (cited in its file) and knows nothing of our adapter: it takes the vendor's syntax in
 * general (abbreviations where the vendor takes them), keeps a running and a startup
 * configuration, enforces its credentials on every login and `enable`, and prints the vendor's
 * prompts, errors, confirmations and banners. The core knows nothing of any vendor.
 */

/** What a dialect sees of one connected session's terminal. */
export interface Terminal {
  /** How the client connected. */
  readonly transport: 'ssh' | 'telnet';
  /**
   * Writes text to the client; "\n" goes out as "\r\n". While paging is on (`pageLength` > 0) the
   * core stops after each page, prints the dialect's `paging.more` prompt and waits for a key:
   * space for the next page, Enter for one more line, `q` (or anything else the dialect's
   * `paging.quitKeys` lists) to drop the rest; it then erases the more prompt with
   * `paging.erase`. Resolves once the text is out (or dropped), so output order is kept.
   */
  print(text: string): Promise<void>;
  /**
   * Prints `prompt` and reads one line: echoed as typed (`echo: true`, the default) or not at all
   * (a password prompt). Backspace/DEL edit the line; CR, LF or CRLF end it. With `help: true`
   * a `?` typed on an echoed line is not taken into the line: the core resolves at once with the
   * line so far plus "?" (the IOS context help), and the dialect prints the help and reads again.
   * Resolves undefined when the session ended (client gone, cut, timeout).
   */
  read(prompt: string, options?: { readonly echo?: boolean; readonly help?: boolean }): Promise<string | undefined>;
  /** Prints `prompt` and reads one key, not echoed ("Press any key to continue", a y/n that takes one key). */
  key(prompt: string): Promise<string | undefined>;
  /** Lines per page; 0 turns paging off (`terminal length 0`, `no page`). Starts at the dialect's `paging.lines`. */
  pageLength: number;
  /**
   * The dialect says a credential change took effect here (in the running configuration, or at
   * once for a device without one), naming what changed. A fault armed with `cut: 'applied'`
   * closes the connection right after this, before the device answers.
   */
  applied(what: string): void;
  /**
   * The dialect asks whether a refusal was armed for this change (`faults.refuse`): when this
   * returns a message, the dialect prints that instead of applying the change (a device that
   * refuses for its own reasons: a policy, a full user table), and the fault is used up.
   */
  refusal(): string | undefined;
  /** Ends the session as the device's logout does, closing the transport once output is out. */
  close(): void;
  /** True once the session ended. */
  readonly closed: boolean;
}

/** Who logged in, as the core authenticated them (SSH password authentication or the Telnet login prompts). */
export interface LoginInfo {
  /** The name given, or undefined for a login with the password alone (a line password). */
  readonly username: string | undefined;
  /** What `authenticate` returned for it: the dialect's own idea of the login (a privilege level, say). */
  readonly grant: unknown;
}

/** How a dialect logs a client in; the core runs the conversation. */
export interface DialectLogin {
  /**
   * Whether a Telnet login asks for a user name before the password (IOS `login local` or AAA:
   * yes; a line with `login` and a line password: no). Read at each connection, so a test may change it.
   */
  usernameRequired(): boolean;
  /** The Telnet prompts, as the vendor prints them ("Username: ", "Password: "). */
  readonly usernamePrompt: string;
  readonly passwordPrompt: string;
  /** Printed after a refused Telnet login, before the next try ("% Login invalid\n"). */
  readonly failed: string;
  /** Tries a Telnet login allows before it hangs up (IOS: 3). */
  readonly attempts: number;
  /** Printed once a Telnet connection opens, before the login (an MOTD banner); optional. */
  banner?(): string;
  /**
   * Runs on a Telnet connection after the banner, before the login prompts: what a device asks
   * first (ProCurve's "Press any key to continue"). 'ask': go on to the prompts; a LoginInfo: the
   * device logs the client in without asking (a ProCurve with no password set); undefined: the
   * session ended. Optional.
   */
  beforeLogin?(term: Terminal): Promise<'ask' | LoginInfo | undefined>;
  /**
   * Checks a login: the SSH user and password, or what was typed at the Telnet prompts (username
   * undefined when none was asked), and the transport it came by. A truthy grant logs the client
   * in; undefined refuses it. Over SSH the user name is always given (SSH sends one); a dialect
   * whose login is a line password ignores it, or checks a fixed one (PIX's "pix"). The core
   * always says the transport; a dialect's own unit tests may leave it out.
   */
  authenticate(username: string | undefined, password: string, transport?: 'ssh' | 'telnet'): unknown;
}

export interface Dialect {
  /** The type it simulates ("cisco-ios"), for messages. */
  readonly name: string;
  readonly login: DialectLogin;
  /** Paging as the device starts a session. */
  readonly paging: {
    /** Lines per page at login (IOS: 24; 0 = a device that does not page). */
    readonly lines: number;
    /** The more prompt (IOS: " --More-- "; ProCurve: "-- MORE --, next page: Space, next line: Enter, quit: Control-C"). */
    readonly more: string;
    /** Written after a key at the more prompt, to erase it (IOS: "\b" x 9 and spaces). */
    readonly erase: string;
    /** Keys that drop the rest of the output (default ["q", "\x03"]). */
    readonly quitKeys?: readonly string[];
  };
  /** Printed when `idleTimeoutMs` logs a session out, before the connection closes (the vendor's words, if it prints any). */
  readonly idleLogout?: string;
  /**
   * Runs one logged-in session until the client logs out, the connection ends or the dialect
   * closes it. Called once per connection after the login; its promise settles when it is done.
   */
  session(term: Terminal, login: LoginInfo): Promise<void>;
}

/** Per-test fault switches, on the running simulator (`setFaults`), used once unless noted. */
export interface DeviceFaults {
  /**
   * Cut the connection (no answer, no logout) at a point of the conversation:
   * - `{ cut: 'received', line: RegExp }`: as soon as a line the client entered matches, before
   *   the dialect sees it (nothing applied);
   * - `{ cut: 'applied' }`: right after the dialect reports a change applied (`Terminal.applied`),
   *   before its answer is printed.
   */
  readonly cut?: { readonly cut: 'received'; readonly line: RegExp } | { readonly cut: 'applied' };
  /** The next change the dialect is asked to apply is refused with this message (the vendor's words). */
  readonly refuse?: string;
  /** Every write of output is held this long, in milliseconds, and sent in small pieces (kept until cleared). */
  readonly slowOutputMs?: number;
  /**
   * The device's session timeout (IOS `exec-timeout`): a session idle this long, in
   * milliseconds, is logged out with the dialect's words (kept until cleared).
   */
  readonly idleTimeoutMs?: number;
}
