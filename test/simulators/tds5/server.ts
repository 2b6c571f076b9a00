/**
 * An SAP ASE simulator speaking TDS 5.0, written from SAP's "Tabular Data Stream (TDS) 5.0
 * Functional Specification" and the constants of SAP's CT-Library header tdspublic.h, and checked
 * against what FreeTDS (src/tds/login.c tds_send_login, src/tds/query.c tds_submit_query,
 * src/tds/token.c) sends and expects. The session:
 *
 * - Optionally TLS from the first byte (`ssl: true`), as ASE's SSL listener (ASE "ssl" entries in
 *   the interfaces file, conventionally port 2748) expects; the certificate is the test CA's
 *   (harness/support/https-certificates.ts).
 * - The login record (TDS_BUF_LOGIN, login.ts) checked against the login store (logins.ts) and
 *   answered with TDS_LOGINACK (TDS_LOG_SUCCEED, TDS 5.0.0.0, "sql server"), ENVCHANGE database
 *   (with EED 5701), language (5703), character set (5704), packet size, the CAPABILITY token
 *   answered, DONE; or EED 4002 "Login failed." (severity 14), LOGINACK TDS_LOG_FAIL, DONE with
 *   TDS_DONE_ERROR, and the connection closed. Every integer follows the client's lint2/lint4.
 * - TDS_BUF_NORMAL requests (requests.ts): LANGUAGE run by the evaluator (tsql.ts, session.ts),
 *   DBRPC / DBRPC2 of sp_password; answers in TDS_BUF_RESPONSE packets of the negotiated size:
 *   ROWFMT/ROW, EED, RETURNSTATUS and DONEPROC for procedures, DONE with count/more/error bits.
 *   TDS_LOGOUT answered with DONE and closed; TDS_BUF_ATTN answered with DONE + TDS_DONE_ATTN.
 *
 * What arrived is recorded per connection: message types and whether under TLS, the logins (never a
 * password), each request's kind, statement names, procedure and parameter names; a language
 * request's text is withheld when it mentions a password. `dropNext` closes the connection without
 * an answer at the next statement of a given name, before or after it applies a change.
 */
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { testCertificates } from '../../../harness/support/https-certificates.js';
import { SqlError } from './lexer.js';
import { parseLogin, type LoginRecord } from './login.js';
import { LoginStore, type AseLogin, type AseLoginSpec } from './logins.js';
import { parseRequest, type Parameter, type Request } from './requests.js';
import { changePassword, execute, spPasswordArguments, type Hooks, type Session } from './session.js';
import { capability, done, Done, eed, envChange, LOG_FAIL, LOG_SUCCEED, loginAck, resultSet, returnStatus, Token, type ServerMessage } from './tokens.js';
import { notFound, parameterMap, parseBatch, statementName, type Outcome, type Statement } from './tsql.js';
import { BufType, LITTLE_ENDIAN, MessageReader, packets, type ByteOrder, type Message } from './wire.js';

export type { AseLoginSpec } from './logins.js';

export interface AseSimulatorOptions {
  readonly logins: readonly AseLoginSpec[];
  /** TLS from the first byte, as ASE's SSL listener; off unless set. */
  readonly ssl?: boolean;
  /** sp_configure "minimum password length"; 6 (ASE's default) unless set. */
  readonly minPasswordLength?: number;
  /** @@servername and the server name in messages; SIMULATOR unless set. */
  readonly serverName?: string;
}

export interface AseLoginRecord {
  readonly userName: string;
  readonly appName: string;
  readonly hostName: string;
  readonly programName: string;
  readonly tls: boolean;
  readonly accepted: boolean;
  readonly byteOrder: 'little-endian' | 'big-endian' | 'mixed';
  readonly packetSize: number;
}

export interface AseRequestRecord {
  readonly kind: 'language' | 'rpc' | 'logout' | 'attention';
  /** A language request's text, or "[withheld: mentions a password]". */
  readonly text?: string;
  readonly proc?: string;
  /** Names of the TDS_PARAMS parameters (never their values). */
  readonly parameterNames: readonly string[];
  /** What each statement names: a procedure, or select / set / alter login. */
  readonly statements: readonly string[];
}

export interface AseConnectionRecord {
  /** Every message's packet type, how many packets it came in, and whether under TLS. */
  readonly messages: { readonly type: number; readonly packets: number; readonly tls: boolean }[];
  readonly logins: AseLoginRecord[];
  readonly requests: AseRequestRecord[];
  /** Set when a dropNext hook closed this connection. */
  dropped?: 'before' | 'after';
}

export interface AseSimulator {
  readonly host: string;
  readonly port: number;
  readonly store: LoginStore;
  readonly connections: readonly AseConnectionRecord[];
  /** The next request naming this procedure or statement keyword (e.g. 'sp_password') drops the connection 'before' applying it or 'after' applying it, without an answer. */
  dropNext(match: string, when: 'before' | 'after'): void;
  stop(): Promise<void>;
}

/** ASE 16.0 SP04's program version in LOGINACK, and its @@version. */
const PROGRAM_VERSION = [16, 0, 4, 4];
const VERSION_TEXT = 'Adaptive Server Enterprise/16.0 SP04 PL04/EBF 30399 SMP/P/x86_64/SLES 12.4/ase160sp04pl04x/3696/64-bit/FBO/Mon Nov 13 04:12:03 2023';
const CHARSET = 'utf8';
const DEFAULT_PACKET_SIZE = 2048;
const MAX_PACKET_SIZE = 65024;

const LOGIN_FAILED: ServerMessage = { number: 4002, severity: 14, state: 1, text: 'Login failed.', sqlState: '08004' };
const PASSWORD_EXPIRED: ServerMessage = { number: 4022, severity: 10, state: 1, text: 'Your password has expired. Change it with sp_password or alter login before you can run any other command.' };

interface Shared {
  readonly store: LoginStore;
  readonly serverName: string;
  readonly minPasswordLength: number;
  readonly drops: { match: string; when: 'before' | 'after' }[];
  nextSpid: number;
}

const withheld = (text: string): string => (/passw/iu.test(text) ? '[withheld: mentions a password]' : text);

class Connection {
  readonly record: AseConnectionRecord = { messages: [], logins: [], requests: [] };
  readonly #reader = new MessageReader();
  #order: ByteOrder = LITTLE_ENDIAN;
  #packetSize = 512;
  #session?: Session;
  #closed = false;
  readonly #spid: number;

  constructor(
    readonly socket: Socket,
    readonly shared: Shared,
    readonly tls: boolean,
  ) {
    this.#spid = shared.nextSpid++;
    socket.on('data', (d: Buffer) => {
      try {
        for (const m of this.#reader.push(d)) this.#onMessage(m);
      } catch {
        // A message the simulator cannot read: ASE drops such a connection.
        this.#close();
      }
    });
    socket.on('error', () => socket.destroy());
  }

  #close(): void {
    this.#closed = true;
    this.socket.destroy();
  }

  #send(data: Buffer): void {
    if (!this.#closed) this.socket.write(packets(BufType.RESPONSE, data, this.#packetSize, this.#spid));
  }

  #onMessage(m: Message): void {
    if (this.#closed) return;
    this.record.messages.push({ type: m.type, packets: m.packets, tls: this.tls });
    if (!this.#session) {
      if (m.type !== BufType.LOGIN) return this.#close();
      return this.#login(parseLogin(m.data));
    }
    if (m.type === BufType.ATTN) {
      this.record.requests.push({ kind: 'attention', parameterNames: [], statements: [] });
      return this.#send(done(this.#order, Done.ATTN));
    }
    if (m.type !== BufType.NORMAL) return this.#close();
    const request = parseRequest(m.data, this.#order);
    if (request.kind === 'logout') {
      this.record.requests.push({ kind: 'logout', parameterNames: [], statements: [] });
      this.#send(done(this.#order, Done.FINAL));
      this.#closed = true;
      this.socket.end();
      return;
    }
    this.#request(request);
  }

  #login(l: LoginRecord): void {
    this.#order = l.order;
    const requested = l.packetSize || DEFAULT_PACKET_SIZE;
    const packetSize = Math.min(Math.max(requested, 512), MAX_PACKET_SIZE);
    // Encrypted passwords (lseclogin TDS_SEC_LOG_ENCRYPT*) are not simulated: such a login is refused.
    const login = l.secLogin === 0 ? this.shared.store.authenticate(l.userName, l.password) : undefined;
    this.record.logins.push({
      userName: l.userName,
      appName: l.appName,
      hostName: l.hostName,
      programName: l.programName,
      tls: this.tls,
      accepted: login !== undefined,
      byteOrder: l.order.int2LittleEndian && l.order.int4LittleEndian ? 'little-endian' : !l.order.int2LittleEndian && !l.order.int4LittleEndian ? 'big-endian' : 'mixed',
      packetSize,
    });
    const o = this.#order;
    if (!login) {
      this.#send(Buffer.concat([eed(o, LOGIN_FAILED, this.shared.serverName), loginAck(o, LOG_FAIL, PROGRAM_VERSION), done(o, Done.ERROR)]));
      this.#closed = true;
      this.socket.end();
      return;
    }
    const out = [loginAck(o, LOG_SUCCEED, PROGRAM_VERSION), envChange(o, 1, 'master', '')];
    out.push(eed(o, { number: 5701, severity: 10, state: 2, text: "Changed database context to 'master'." }, this.shared.serverName));
    out.push(envChange(o, 2, 'us_english', ''));
    if (l.setLanguage) out.push(eed(o, { number: 5703, severity: 10, state: 1, text: "Changed language setting to 'us_english'." }, this.shared.serverName));
    out.push(envChange(o, 3, CHARSET, ''));
    if (l.setCharset) out.push(eed(o, { number: 5704, severity: 10, state: 1, text: `Changed client character set setting to '${CHARSET}'.` }, this.shared.serverName));
    if (login.passwordExpired) out.push(eed(o, PASSWORD_EXPIRED, this.shared.serverName));
    out.push(envChange(o, 4, String(packetSize), String(this.#packetSize)));
    if (l.capabilities.length) out.push(capability(o, l.capabilities));
    out.push(done(o, Done.FINAL));
    this.#send(Buffer.concat(out));
    this.#packetSize = packetSize;
    this.#session = this.#newSession(login);
  }

  #newSession(login: AseLogin): Session {
    return {
      login,
      spid: this.#spid,
      serverName: this.shared.serverName,
      version: VERSION_TEXT,
      store: this.shared.store,
      minPasswordLength: this.shared.minPasswordLength,
      quotedIdentifier: false,
      parameters: new Map(),
    };
  }

  /** The pending drop for a statement named `name`, taken. */
  #takeDrop(name: string): 'before' | 'after' | undefined {
    const n = name.toLowerCase();
    const i = this.shared.drops.findIndex((d) => d.match.toLowerCase() === n || (n === 'alter login' && d.match.toLowerCase() === 'alter'));
    if (i < 0) return undefined;
    return this.shared.drops.splice(i, 1)[0]!.when;
  }

  #hooks(drop: 'before' | 'after' | undefined): Hooks {
    return { beforeApply: () => drop !== 'before' };
  }

  #request(r: Exclude<Request, { kind: 'logout' }>): void {
    const s = this.#session!;
    s.parameters = parameterMap(r.parameters);
    const parameterNames = r.parameters.map((p) => p.name);
    if (r.kind === 'rpc') {
      this.record.requests.push({ kind: 'rpc', proc: r.proc, parameterNames, statements: [r.proc] });
      return this.#rpc(r.proc, r.parameters);
    }
    let statements: Statement[];
    try {
      statements = parseBatch(r.text, s.quotedIdentifier);
    } catch (e) {
      if (!(e instanceof SqlError)) throw e;
      this.record.requests.push({ kind: 'language', text: withheld(r.text), parameterNames, statements: [] });
      return this.#send(Buffer.concat([eed(this.#order, e.server, this.shared.serverName), done(this.#order, Done.ERROR)]));
    }
    this.record.requests.push({ kind: 'language', text: withheld(r.text), parameterNames, statements: statements.map(statementName) });
    const out: Buffer[] = [];
    for (const [i, st] of statements.entries()) {
      const drop = this.#takeDrop(statementName(st));
      if (drop === 'before' && st.kind !== 'exec' && st.kind !== 'alter login') return this.#drop(drop);
      const o = execute(st, s, this.#hooks(drop));
      if (drop) return this.#drop(drop);
      out.push(this.#outcome(o, i === statements.length - 1));
    }
    this.#send(Buffer.concat(out.length ? out : [done(this.#order, Done.FINAL)]));
  }

  #drop(when: 'before' | 'after'): void {
    this.record.dropped = when;
    this.#close();
  }

  #outcome(o: Outcome, last: boolean): Buffer {
    const ord = this.#order;
    const out = o.messages.map((m) => eed(ord, m, this.shared.serverName));
    const more = last ? 0 : Done.MORE;
    if (o.result) out.push(resultSet(ord, o.result.columns, o.result.rows));
    if (o.returnStatus !== undefined) {
      out.push(returnStatus(ord, o.returnStatus));
      out.push(done(ord, more | (o.error ? Done.ERROR : 0), 0, Token.DONEPROC));
    } else {
      out.push(done(ord, more | (o.error ? Done.ERROR : 0) | (o.result ? Done.COUNT : 0), o.result ? o.result.rows.length : 0));
    }
    return Buffer.concat(out);
  }

  #rpc(proc: string, parameters: readonly Parameter[]): void {
    const s = this.#session!;
    const ord = this.#order;
    const name = proc.split('.').at(-1)!;
    const drop = this.#takeDrop(name);
    let o: Outcome;
    try {
      if (name.toLowerCase() !== 'sp_password') throw notFound(proc);
      o = changePassword(spPasswordArguments(parameters), s, this.#hooks(drop), false);
    } catch (e) {
      if (!(e instanceof SqlError)) throw e;
      const ran = name.toLowerCase() === 'sp_password';
      o = { messages: [e.server], error: true, ...(ran ? { returnStatus: 1 } : {}) };
    }
    // A drop hook closes the connection however the request went (refused, held back, or applied).
    if (drop) return this.#drop(drop);
    const body = o.messages.map((m) => eed(ord, m, this.shared.serverName));
    if (o.returnStatus !== undefined) body.push(returnStatus(ord, o.returnStatus), done(ord, o.error ? Done.ERROR : Done.FINAL, 0, Token.DONEPROC));
    else body.push(done(ord, Done.ERROR));
    this.#send(Buffer.concat(body));
  }
}

export async function startAseSimulator(options: AseSimulatorOptions): Promise<AseSimulator> {
  const shared: Shared = {
    store: new LoginStore(options.logins),
    serverName: options.serverName ?? 'SIMULATOR',
    minPasswordLength: options.minPasswordLength ?? 6,
    drops: [],
    nextSpid: 14,
  };
  const connections: AseConnectionRecord[] = [];
  const sockets = new Set<Socket>();
  const accept = (socket: Socket, tls: boolean): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    connections.push(new Connection(socket, shared, tls).record);
  };
  let server: Server;
  if (options.ssl) {
    const { cert, key } = testCertificates();
    const tlsServer = createTlsServer({ cert, key }, (socket) => accept(socket, true));
    tlsServer.on('tlsClientError', () => {});
    server = tlsServer;
  } else {
    server = createTcpServer((socket) => accept(socket, false));
  }
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    store: shared.store,
    connections,
    dropNext: (match, when) => void shared.drops.push({ match, when }),
    stop: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}
