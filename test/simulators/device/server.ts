/**
 * The transports of the device simulators: SSH (ssh2's server: password and keyboard-interactive
 * authentication checked by the dialect, `pty`, `window-change` and `shell` requests) and Telnet
 * (RFC 854) over TCP with real option negotiation. Both hand a SessionTerminal (terminal.ts)
 * decoded characters; neither knows any vendor.
 *
 * Telnet: on connect the server sends WILL ECHO and WILL SGA (RFC 857, 858: the device echoes,
 * character at a time, as IOS and every device here do), DO NAWS (RFC 1073) and DO TTYPE (RFC
 * 1091). A WILL TTYPE gets SB TTYPE SEND; the answer's IS name is recorded. SB NAWS sets the
 * recorded window and the page length (rows; 0 means "not known" and keeps the dialect's). Any
 * other option is refused (WONT/DONT), and a reply is sent only when an option's state changes
 * (RFC 1143), so no negotiation loops. IAC is doubled on output and undoubled on input; a bare
 * CR goes out as CR NUL.
 *
 * Legacy SSH (an IOS 12 device): only diffie-hellman-group14-sha1, an ssh-rsa host key,
 * aes128-cbc and hmac-sha1 are offered, so a client that names none of them cannot connect.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import ssh2, { type AuthContext, type Connection, type ServerChannel } from 'ssh2';
import { ed25519KeyPair } from '../../support/ssh-keys.js';
import type { Dialect, LoginInfo } from './dialect.js';
import { FaultSwitch, SessionTerminal, type TerminalWire } from './terminal.js';

const { Server } = ssh2;

export interface SessionRecord {
  readonly transport: 'ssh' | 'telnet';
  /** The name the login used (undefined for a login with the password alone). */
  username?: string;
  window?: { columns: number; rows: number };
  terminalType?: string;
  closed: boolean;
}

/** What the transports share: the dialect, the faults and the record of sessions. */
export interface SimulatorCore {
  readonly dialect: Dialect;
  readonly faults: FaultSwitch;
  readonly sessions: SessionRecord[];
}

/** Runs one logged-in session and keeps its record up to date. */
async function runSession(core: SimulatorCore, term: SessionTerminal, login: LoginInfo, record: SessionRecord): Promise<void> {
  record.username = login.username;
  try {
    await core.dialect.session(term, login);
  } finally {
    term.close();
  }
}

// ------------------------------------------------------------------ SSH

export interface SshServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startSsh(core: SimulatorCore, legacy: boolean): Promise<SshServer> {
  const hostKey = legacy ? ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 }).private : ed25519KeyPair().private;
  const algorithms = legacy
    ? ({ kex: ['diffie-hellman-group14-sha1'], serverHostKey: ['ssh-rsa'], cipher: ['aes128-cbc'], hmac: ['hmac-sha1'] } satisfies ssh2.Algorithms)
    : undefined;
  const clients = new Set<Connection>();
  const server = new Server({ hostKeys: [hostKey], ...(algorithms ? { algorithms } : {}) }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    onSshClient(core, client);
  });
  // Our own listener, so that every connection has TCP_NODELAY: with Nagle's algorithm each small
  // SSH packet could wait for a delayed ACK (40 ms on loopback), a login several times over.
  const listener = createServer({ noDelay: true }, (socket) => server.injectSocket(socket));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
  const port = (listener.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.end();
        listener.close(() => resolve());
      }),
  };
}

function sshCheck(core: SimulatorCore, username: string, password: string): LoginInfo | undefined {
  const grant = core.dialect.login.authenticate(username, password, 'ssh');
  return grant ? { username, grant } : undefined;
}

function onSshClient(core: SimulatorCore, client: Connection): void {
  let info: LoginInfo | undefined;
  client.on('authentication', (ctx: AuthContext) => {
    if (ctx.method === 'password') {
      info = sshCheck(core, ctx.username, ctx.password);
      return info ? ctx.accept() : ctx.reject(['password', 'keyboard-interactive']);
    }
    if (ctx.method === 'keyboard-interactive') {
      ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => {
        info = sshCheck(core, ctx.username, answers[0] ?? '');
        if (info) ctx.accept();
        else ctx.reject(['password', 'keyboard-interactive']);
      });
      return;
    }
    ctx.reject(['password', 'keyboard-interactive']);
  });
  client.on('ready', () => {
    client.on('session', (acceptSession) => {
      const session = acceptSession();
      const record: SessionRecord = { transport: 'ssh', closed: false };
      let term: SessionTerminal | undefined;
      session.on('pty', (accept, _reject, pty) => {
        record.window = { columns: pty.cols, rows: pty.rows };
        record.terminalType = pty.term;
        accept?.();
      });
      session.on('window-change', (accept, _reject, win) => {
        record.window = { columns: win.cols, rows: win.rows };
        if (term && win.rows > 0) term.pageLength = win.rows;
        accept?.();
      });
      session.on('env', (accept) => accept?.());
      session.on('exec', (_accept, reject) => reject?.());
      session.on('shell', (accept) => {
        const channel: ServerChannel = accept();
        const decoder = new StringDecoder('utf8');
        const wire: TerminalWire = {
          transport: 'ssh',
          write: (text) => {
            if (channel.writable) channel.write(Buffer.from(text, 'utf8'));
          },
          end: () => {
            if (channel.writable) channel.exit(0);
            channel.end();
            client.end();
          },
          destroy: () => (client as unknown as { _sock: Socket })._sock.destroy(),
        };
        term = new SessionTerminal(wire, core.dialect, core.faults, () => (record.closed = true));
        if (record.window && record.window.rows > 0) term.pageLength = record.window.rows;
        core.sessions.push(record);
        channel.on('data', (chunk: Buffer) => term!.receive(decoder.write(chunk)));
        channel.on('close', () => term!.ended());
        client.on('close', () => term!.ended());
        void runSession(core, term, info!, record);
      });
    });
  });
}

// ------------------------------------------------------------------ Telnet

const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;
const ECHO = 1;
const SGA = 3;
const TTYPE = 24;
const NAWS = 31;

export interface TelnetServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startTelnet(core: SimulatorCore): Promise<TelnetServer> {
  const sockets = new Set<Socket>();
  const server: NetServer = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    void onTelnetClient(core, socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The server side of Telnet negotiation and the byte layer, free of I/O. */
export class TelnetServerCodec {
  /** Options the server performs, and the ones it asked the client to perform. */
  readonly local = new Set<number>([ECHO, SGA]);
  readonly remote = new Set<number>();
  /** Options the server asked for and has not heard back on. */
  readonly #asked = new Set<number>([NAWS, TTYPE]);
  window: { columns: number; rows: number } | undefined;
  terminalType: string | undefined;
  /** The client refused NAWS (WONT). */
  nawsRefused = false;
  #state: 'data' | 'iac' | 'verb' | 'sb' | 'sb-iac' = 'data';
  #verb = 0;
  #sb: number[] = [];

  /** What the server sends first. */
  static opening(): Buffer {
    return Buffer.from([IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, NAWS, IAC, DO, TTYPE]);
  }

  decode(chunk: Uint8Array): { data: Buffer; replies: Buffer; changed: boolean } {
    const data: number[] = [];
    const replies: number[] = [];
    let changed = false;
    for (const byte of chunk) {
      switch (this.#state) {
        case 'data':
          if (byte === IAC) this.#state = 'iac';
          else data.push(byte);
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
          } else this.#state = 'data';
          break;
        case 'verb':
          replies.push(...this.#negotiate(this.#verb, byte));
          if (byte === NAWS) changed = true;
          this.#state = 'data';
          break;
        case 'sb':
          if (byte === IAC) this.#state = 'sb-iac';
          else this.#sb.push(byte);
          break;
        case 'sb-iac':
          if (byte === SE) {
            changed = this.#subnegotiation(this.#sb) || changed;
            this.#state = 'data';
          } else {
            // IAC IAC inside a subnegotiation is one 255 byte (RFC 855).
            this.#sb.push(byte);
            this.#state = 'sb';
          }
          break;
      }
    }
    return { data: Buffer.from(data), replies: Buffer.from(replies), changed };
  }

  /** Output for the wire: IAC doubled, a bare CR as CR NUL. */
  encode(text: string): Buffer {
    const bytes = Buffer.from(text, 'utf8');
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === IAC) out.push(IAC, IAC);
      else if (b === 13 && bytes[i + 1] !== 10) out.push(13, 0);
      else out.push(b);
    }
    return Buffer.from(out);
  }

  #negotiate(verb: number, option: number): number[] {
    const asked = this.#asked.delete(option);
    switch (verb) {
      case WILL:
        if (this.remote.has(option)) return [];
        if (option === NAWS || option === TTYPE) {
          this.remote.add(option);
          const ack = asked ? [] : [IAC, DO, option];
          return option === TTYPE ? [...ack, IAC, SB, TTYPE, 1, IAC, SE] : ack;
        }
        return [IAC, DONT, option];
      case WONT:
        if (option === NAWS) this.nawsRefused = true;
        if (!this.remote.has(option)) return [];
        this.remote.delete(option);
        return [IAC, DONT, option];
      case DO:
        if (this.local.has(option)) return [];
        return [IAC, WONT, option];
      case DONT:
        if (!this.local.has(option)) return [];
        this.local.delete(option);
        return [IAC, WONT, option];
      default:
        return [];
    }
  }

  #subnegotiation(sb: number[]): boolean {
    if (sb[0] === NAWS && sb.length >= 5) {
      this.window = { columns: (sb[1]! << 8) | sb[2]!, rows: (sb[3]! << 8) | sb[4]! };
      return true;
    }
    if (sb[0] === TTYPE && sb[1] === 0) this.terminalType = Buffer.from(sb.slice(2)).toString('latin1');
    return false;
  }
}

async function onTelnetClient(core: SimulatorCore, socket: Socket): Promise<void> {
  const codec = new TelnetServerCodec();
  const record: SessionRecord = { transport: 'telnet', closed: false };
  core.sessions.push(record);
  const wire: TerminalWire = {
    transport: 'telnet',
    write: (text) => {
      if (!socket.destroyed) socket.write(codec.encode(text));
    },
    end: () => socket.end(),
    destroy: () => socket.destroy(),
  };
  const term = new SessionTerminal(wire, core.dialect, core.faults, () => (record.closed = true));
  const decoder = new StringDecoder('utf8');
  socket.on('data', (chunk: Buffer) => {
    const { data, replies, changed } = codec.decode(chunk);
    if (replies.length > 0 && !socket.destroyed) socket.write(replies);
    if (changed && codec.window) {
      record.window = codec.window;
      if (codec.window.rows > 0) term.pageLength = codec.window.rows;
    }
    if (codec.terminalType !== undefined) record.terminalType = codec.terminalType;
    if (data.length > 0) term.receive(decoder.write(data));
  });
  socket.on('close', () => term.ended());
  socket.write(TelnetServerCodec.opening());
  const login = await term.telnetLogin();
  if (login) await runSession(core, term, login, record);
}
