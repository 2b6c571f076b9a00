/** Telnet commands (RFC 854) and the options this client talks about. */
export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const SE = 240;

export const OPTION = { BINARY: 0, ECHO: 1, SGA: 3, TTYPE: 24, NAWS: 31, TSPEED: 32, LFLOW: 33, LINEMODE: 34, NEW_ENVIRON: 39 } as const;

export interface TelnetOptionPolicy {
  /** Options this client agrees to perform when the server sends DO (others get WONT). */
  readonly local: readonly number[];
  /** Options this client lets the server perform when it sends WILL (others get DONT). */
  readonly remote: readonly number[];
  /** With NAWS in `local`: the window size reported once NAWS is agreed (RFC 1073). */
  readonly window?: { readonly cols: number; readonly rows: number };
  /** With TTYPE in `local`: the terminal type answered to SEND (RFC 1091). */
  readonly terminalType?: string;
}

/**
 * What a shell client needs: it suppresses go-ahead, lets the server echo (so the remote
 * tty, whose echo we switch off, decides), and sends in binary mode when the server asks,
 * because NVT is 7-bit: without BINARY, telnetd strips the high bit of UTF-8 passwords.
 * Everything else — terminal type, window size, environment, line mode — is refused: the
 * remote side falls back to its defaults.
 */
export const SHELL_CLIENT_OPTIONS: TelnetOptionPolicy = { local: [OPTION.SGA, OPTION.BINARY], remote: [OPTION.SGA, OPTION.ECHO] };

/**
 * What a device CLI client needs besides the shell's options: it reports its window (NAWS,
 * RFC 1073) as wide and tall, and its terminal type (TTYPE, RFC 1091) as VT100, so devices
 * neither page at 24 lines nor wrap at 80 columns.
 */
export const DEVICE_CLIENT_OPTIONS: TelnetOptionPolicy = {
  local: [OPTION.SGA, OPTION.BINARY, OPTION.NAWS, OPTION.TTYPE],
  remote: [OPTION.SGA, OPTION.ECHO],
  window: { cols: 511, rows: 512 },
  terminalType: 'VT100',
};

/** TTYPE subnegotiation codes (RFC 1091). */
const TTYPE_IS = 0;
const TTYPE_SEND = 1;
/** Subnegotiation bytes kept; longer ones are of no option we answer. */
const SB_MAX = 64;

type State = 'data' | 'cr' | 'iac' | 'verb' | 'sb' | 'sb-iac';

/**
 * The Telnet byte layer, free of I/O so it can be tested split at every byte:
 * decodes server bytes into data and the negotiation replies to send, and encodes data
 * for the wire (0xFF doubled, NVT end of line). State persists across chunks.
 */
export class TelnetCodec {
  readonly #policy: TelnetOptionPolicy;
  readonly #local = new Set<number>();
  readonly #remote = new Set<number>();
  #state: State = 'data';
  #verb = 0;
  #sb: number[] = [];

  constructor(policy: TelnetOptionPolicy = SHELL_CLIENT_OPTIONS) {
    this.#policy = policy;
  }

  /** Options currently enabled on each side, for tests and logs. */
  get enabled(): { local: number[]; remote: number[] } {
    return { local: [...this.#local].sort((a, b) => a - b), remote: [...this.#remote].sort((a, b) => a - b) };
  }

  decode(chunk: Uint8Array): { data: Buffer; replies: Buffer } {
    const data: number[] = [];
    const replies: number[] = [];
    for (const byte of chunk) {
      if (this.#state === 'cr') {
        this.#state = 'data';
        // CR NUL is a bare carriage return on the wire: drop the NUL.
        if (byte === 0) continue;
      }
      switch (this.#state) {
        case 'data':
          if (byte === IAC) this.#state = 'iac';
          else {
            data.push(byte);
            if (byte === 13) this.#state = 'cr';
          }
          break;
        case 'iac':
          if (byte === IAC) {
            data.push(IAC);
            this.#state = 'data';
          } else if (byte === DO || byte === DONT || byte === WILL || byte === WONT) {
            this.#verb = byte;
            this.#state = 'verb';
          } else if (byte === SB) {
            this.#sb = [];
            this.#state = 'sb';
          }
          // NOP, GA, DM, AYT and the rest carry nothing a shell client needs.
          else this.#state = 'data';
          break;
        case 'verb':
          replies.push(...this.#negotiate(this.#verb, byte));
          this.#state = 'data';
          break;
        case 'sb':
          // Kept to IAC SE (bounded); answered only for an option we agreed to.
          if (byte === IAC) this.#state = 'sb-iac';
          else if (this.#sb.length < SB_MAX) this.#sb.push(byte);
          break;
        case 'sb-iac':
          if (byte === SE) {
            replies.push(...this.#subnegotiate(this.#sb));
            this.#state = 'data';
          } else {
            // IAC IAC inside a subnegotiation is a data byte 255.
            if (byte === IAC && this.#sb.length < SB_MAX) this.#sb.push(IAC);
            this.#state = 'sb';
          }
          break;
      }
    }
    return { data: Buffer.from(data), replies: Buffer.from(replies) };
  }

  /** Whether what we send is 8-bit clean (we agreed to BINARY); NVT is 7-bit otherwise. */
  get binary(): boolean {
    return this.#local.has(OPTION.BINARY);
  }

  /**
   * Data for the wire: IAC doubled. In NVT mode "\n" and "\r\n" become CR LF and a bare "\r"
   * CR NUL (RFC 854); in binary mode (RFC 856) bytes go as they are, so "\n" ends a line.
   */
  encode(text: Uint8Array): Buffer {
    const out: number[] = [];
    const binary = this.binary;
    for (let i = 0; i < text.length; i++) {
      const byte = text[i]!;
      if (byte === IAC) out.push(IAC, IAC);
      else if (binary) out.push(byte);
      else if (byte === 10) out.push(13, 10);
      else if (byte === 13) {
        if (text[i + 1] === 10) i++;
        else {
          out.push(13, 0);
          continue;
        }
        out.push(13, 10);
      } else out.push(byte);
    }
    return Buffer.from(out);
  }

  /** The answer to a subnegotiation: TTYPE SEND gets IS and our terminal type; others none. */
  #subnegotiate(sb: readonly number[]): number[] {
    if (sb[0] === OPTION.TTYPE && sb[1] === TTYPE_SEND && sb.length === 2 && this.#local.has(OPTION.TTYPE) && this.#policy.terminalType) {
      return [IAC, SB, OPTION.TTYPE, TTYPE_IS, ...escapeIac(Buffer.from(this.#policy.terminalType, 'latin1')), IAC, SE];
    }
    return [];
  }

  /** IAC SB NAWS with our window, 16-bit big-endian each, 255 bytes doubled (RFC 1073). */
  #windowSize(): number[] {
    const w = this.#policy.window;
    if (!w) return [];
    const size = [w.cols >> 8, w.cols & 0xff, w.rows >> 8, w.rows & 0xff];
    return [IAC, SB, OPTION.NAWS, ...escapeIac(size), IAC, SE];
  }

  /** Answers one request, replying only when the state changes (RFC 1143), so no loop can start. */
  #negotiate(verb: number, option: number): number[] {
    switch (verb) {
      case DO:
        if (this.#local.has(option)) return [];
        if (this.#policy.local.includes(option)) {
          this.#local.add(option);
          // The window follows our WILL at once: the server asked for it.
          if (option === OPTION.NAWS) return [IAC, WILL, option, ...this.#windowSize()];
          return [IAC, WILL, option];
        }
        return [IAC, WONT, option];
      case DONT:
        if (!this.#local.has(option)) return [];
        this.#local.delete(option);
        return [IAC, WONT, option];
      case WILL:
        if (this.#remote.has(option)) return [];
        if (this.#policy.remote.includes(option)) {
          this.#remote.add(option);
          return [IAC, DO, option];
        }
        return [IAC, DONT, option];
      case WONT:
        if (!this.#remote.has(option)) return [];
        this.#remote.delete(option);
        return [IAC, DONT, option];
      default:
        return [];
    }
  }
}

function escapeIac(bytes: Iterable<number>): number[] {
  const out: number[] = [];
  for (const b of bytes) {
    if (b === IAC) out.push(IAC, IAC);
    else out.push(b);
  }
  return out;
}
