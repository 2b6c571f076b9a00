/**
 * A SQL Server simulator speaking TDS 7.4, per Microsoft's [MS-TDS] open specification
 * (https://learn.microsoft.com/openspecs/windows_protocols/ms-tds/), that real clients (tedious
 * through `mssql`, FreeTDS's tsql) log in to. The session follows [MS-TDS] 3.3 (server):
 *
 * - PRELOGIN answered with the negotiated encryption (login7.ts). When TLS follows, its handshake
 *   travels as the payload of PRELOGIN packets, one server message for each client message (2.2.6.5,
 *   3.3.5.1); then TLS records flow bare on the connection, for the whole session, or, when the
 *   client only offered encryption to a server that does not force it (ENCRYPT_OFF both ways), for
 *   the LOGIN7 message alone, after which both sides speak in clear again.
 * - LOGIN7 checked against the login store (logins.ts) and answered as SQL Server answers it:
 *   ENVCHANGE database, INFO 5701, ENVCHANGE collation and language, INFO 5703, LOGINACK, ENVCHANGE
 *   packet size, DONE; or ERROR and DONE with the error bit, and the connection closed.
 * - SQL batches and RPC requests (rpc.ts) run by the T-SQL evaluator (tsql.ts), answered with
 *   COLMETADATA/ROW, INFO/ERROR and DONE / DONEINPROC / DONEPROC (tokens.ts); ATTENTION with DONE
 *   carrying the attention bit (2.2.1.7).
 *
 * The certificate is the test CA's (harness/support/https-certificates.ts). What arrived is recorded
 * per connection (message types, whether under TLS, the logins' names, batch texts and RPC
 * statements; never a LOGIN7 password) so a test can show, say, that no LOGIN7 reached a server
 * whose certificate the client refused.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket } from 'node:tls';
import { testCertificates } from '../../../harness/support/https-certificates.js';
import { negotiate, parseLogin7, parsePrelogin, preloginAnswer, type EncryptionSetting, type Login7, type Negotiated } from './login7.js';
import { LoginStore, type LoginSpec, type SqlLogin } from './logins.js';
import { challengeMessage, isNegotiate, parseAuthenticate } from './ntlm.js';
import { MessageReader, PacketType, packets, skipAllHeaders, type Message } from './packets.js';
import { parseRpc } from './rpc.js';
import { collationChange, COLLATION, CurCmd, doneInProc, doneProc, DoneStatus, doneToken, EnvChange, envChange, loginAck, message, resultSet, returnStatus, sspiToken, type ServerMessage } from './tokens.js';
import { SqlError } from './tsql-lexer.js';
import { execProc, runBatch, type Outcome, type Session } from './tsql.js';

export interface TdsSimulatorOptions {
  readonly logins: readonly LoginSpec[];
  /** The server's encryption setting; `off` (a certificate, not forced) unless set. */
  readonly encryption?: EncryptionSetting;
  /** `master` is always there. */
  readonly databases?: readonly string[];
  readonly serverName?: string;
  /** The Windows domain the server belongs to, whose Windows logins it authenticates with NTLM; CORP (corp.example.com) unless set. */
  readonly domain?: { readonly netbios: string; readonly dns: string };
}

export interface ReceivedRequest {
  readonly kind: 'batch' | 'rpc';
  /** The batch text, or the RPC procedure and its first parameter (sp_executesql's statement). */
  readonly sql: string;
  readonly proc?: string;
  readonly parameterNames?: readonly string[];
}

export interface ConnectionRecord {
  /** Every message's packet type, and whether it came under TLS. */
  readonly messages: { readonly type: number; readonly tls: boolean }[];
  readonly logins: { readonly userName: string; readonly appName: string; readonly database: string; readonly tls: boolean; readonly accepted: boolean }[];
  readonly requests: ReceivedRequest[];
  encryption?: Negotiated;
}

export interface TdsSimulator {
  readonly host: string;
  readonly port: number;
  readonly store: LoginStore;
  readonly connections: readonly ConnectionRecord[];
  stop(): Promise<void>;
}

const VERSION: readonly [number, number, number] = [16, 0, 1000];
const DEFAULT_PACKET_SIZE = 4096;
const DEFAULT_DOMAIN = { netbios: 'CORP', dns: 'corp.example.com' };
const UNTRUSTED: ServerMessage = { number: 18452, state: 1, class: 14, message: 'Login failed. The login is from an untrusted domain and cannot be used with Integrated authentication.' };
const VERSION_TEXT = 'Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64) \n\tOct  8 2022 05:58:25 \n\tCopyright (C) 2022 Microsoft Corporation\n\tDeveloper Edition (64-bit) on Linux (Debian) <X64>';

interface Shared {
  readonly options: TdsSimulatorOptions;
  readonly store: LoginStore;
  readonly secureContext: ReturnType<typeof createSecureContext>;
  readonly databases: readonly string[];
  readonly serverName: string;
  nextSpid: number;
}

class Connection {
  readonly record: ConnectionRecord = { messages: [], logins: [], requests: [] };
  #state: 'prelogin' | 'handshake' | 'login' | 'sspi' | 'ready' | 'closed' = 'prelogin';
  /** Between an NTLM LOGIN7 and the client's AUTHENTICATE_MESSAGE. */
  #ntlm?: { readonly login7: Login7; readonly serverChallenge: Buffer };
  #negotiated: Negotiated = 'none';
  readonly #raw = new MessageReader();
  readonly #clear = new MessageReader();
  #tls?: TLSSocket;
  #carrier?: Duplex;
  /** TLS bytes go inside PRELOGIN packets (the handshake) rather than bare. */
  #wrapped = false;
  #handshakeDone = false;
  /** The server's flight answering the client's last handshake message has gone out. */
  #answered = false;
  #pending: Buffer[] = [];
  #packetSize = DEFAULT_PACKET_SIZE;
  #session?: Session;
  readonly #spid: number;

  constructor(
    readonly socket: Socket,
    readonly shared: Shared,
  ) {
    this.#spid = shared.nextSpid++;
    socket.on('data', (d: Buffer) => this.#guard(() => this.#fromSocket(d)));
    socket.on('error', () => socket.destroy());
  }

  #guard(f: () => void): void {
    try {
      f();
    } catch {
      // A message the simulator cannot read: SQL Server drops such a connection.
      this.#close();
    }
  }

  #close(): void {
    this.#state = 'closed';
    this.#tls?.destroy();
    this.socket.destroy();
  }

  #fromSocket(d: Buffer): void {
    if (this.#tls && !this.#wrapped) {
      this.#carrier!.push(d);
      return;
    }
    for (const m of this.#raw.push(d)) this.#onMessage(m, false);
  }

  #onMessage(m: Message, tls: boolean): void {
    if (this.#state === 'closed') return;
    this.record.messages.push({ type: m.type, tls });
    if (this.#state === 'handshake') {
      if (m.type !== PacketType.PRELOGIN) return this.#close(); // e.g. a LOGIN7 in clear where TLS was agreed
      this.#answered = false;
      this.#carrier!.push(m.data);
      return;
    }
    if (this.#state === 'prelogin') return this.#prelogin(m);
    if (this.#state === 'login') return this.#login(m, tls);
    if (this.#state === 'sspi') return this.#sspi(m, tls);
    if (m.type === PacketType.SQL_BATCH) return this.#batch(m.data);
    if (m.type === PacketType.RPC) return this.#rpc(m.data);
    if (m.type === PacketType.ATTENTION) return this.#send(doneToken(0x20, 0));
    this.#close();
  }

  #send(data: Buffer, type: number = PacketType.TABULAR_RESULT): void {
    const bytes = packets(type, data, this.#packetSize, this.#spid);
    if (this.#tls && !this.#wrapped && this.#negotiated === 'full') this.#tls.write(bytes);
    else this.socket.write(bytes);
  }

  #prelogin(m: Message): void {
    if (m.type !== PacketType.PRELOGIN) return this.#close();
    const { answer, then } = negotiate(this.shared.options.encryption ?? 'off', parsePrelogin(m.data).encryption);
    this.#negotiated = then;
    this.record.encryption = then;
    this.#send(preloginAnswer(VERSION, answer));
    if (then === 'none') this.#state = 'login';
    else this.#startTls();
  }

  #startTls(): void {
    this.#state = 'handshake';
    this.#wrapped = true;
    this.#carrier = new Duplex({
      read() {},
      write: (chunk: Buffer, _e, done) => {
        if (this.#wrapped) {
          if (this.#pending.push(chunk) === 1) setImmediate(() => this.#flushHandshake());
        } else if (!this.socket.destroyed) this.socket.write(chunk);
        done();
      },
    });
    const tls = new TLSSocket(this.#carrier, { isServer: true, secureContext: this.shared.secureContext });
    this.#tls = tls;
    tls.on('secure', () => {
      this.#handshakeDone = true;
      this.#state = 'login';
      // The last flight may be written after this event: it goes out wrapped, and the flush unwraps.
      if (this.#answered) this.#unwrap();
    });
    tls.on('data', (d: Buffer) => this.#guard(() => this.#fromTls(d)));
    tls.on('error', () => this.#close());
  }

  /** One flight of the server's handshake, as the payload of one PRELOGIN message. */
  #flushHandshake(): void {
    const flight = Buffer.concat(this.#pending);
    this.#pending = [];
    if (this.socket.destroyed) return;
    this.socket.write(packets(PacketType.PRELOGIN, flight, this.#packetSize, this.#spid));
    this.#answered = true;
    if (this.#handshakeDone) this.#unwrap();
  }

  /** The handshake is over: TLS records flow bare from now on. */
  #unwrap(): void {
    this.#wrapped = false;
    const early = this.#raw.takeRest();
    if (early.length) this.#carrier!.push(early);
  }

  #fromTls(d: Buffer): void {
    for (const m of this.#clear.push(d)) {
      this.#onMessage(m, true);
      if (this.#negotiated === 'login-only' && m.type === PacketType.LOGIN7) {
        // Only LOGIN7 was to be encrypted: the rest of the session is in clear.
        this.#tls!.removeAllListeners('data');
        this.#tls = undefined;
      }
    }
  }

  #login(m: Message, tls: boolean): void {
    if (m.type !== PacketType.LOGIN7) return this.#close();
    if (this.#negotiated !== 'none' && !tls) return this.#close();
    const l = parseLogin7(m.data);
    if (l.integratedSecurity) {
      // Windows authentication: LOGIN7 carries NTLM's NEGOTIATE_MESSAGE; the CHALLENGE_MESSAGE goes back in an SSPI token.
      if (!l.sspi || !isNegotiate(l.sspi)) return this.#refuse(l, l.userName, tls, UNTRUSTED);
      const domain = this.shared.options.domain ?? DEFAULT_DOMAIN;
      const { message: challenge, serverChallenge } = challengeMessage({ domain: domain.netbios, dnsDomain: domain.dns, computer: this.shared.serverName });
      this.#ntlm = { login7: l, serverChallenge };
      this.#state = 'sspi';
      this.#send(sspiToken(challenge));
      return;
    }
    const outcome = this.shared.store.authenticate(l.userName, l.password, l.changePassword);
    if (!outcome.ok) return this.#refuse(l, l.userName, tls, outcome.error);
    this.#accept(l, outcome.login, l.userName, tls);
  }

  /** The client's AUTHENTICATE_MESSAGE, checked against the Windows login's domain account. */
  #sspi(m: Message, tls: boolean): void {
    const { login7, serverChallenge } = this.#ntlm!;
    this.#ntlm = undefined;
    if (m.type !== PacketType.SSPI) return this.#close();
    const a = parseAuthenticate(m.data);
    const domain = this.shared.options.domain ?? DEFAULT_DOMAIN;
    const name = `${domain.netbios}\\${a.user}`;
    const outcome = this.shared.store.authenticateWindows(a, serverChallenge, domain.netbios);
    if (!outcome.ok) return this.#refuse(login7, name, tls, outcome.error);
    this.#accept(login7, outcome.login, outcome.login.name, tls);
  }

  /** ERROR and DONE with the error bit, then the connection closed, as SQL Server ends a refused login. */
  #refuse(l: Login7, userName: string, tls: boolean, e: ServerMessage): void {
    this.record.logins.push({ userName, appName: l.appName, database: l.database, tls, accepted: false });
    this.#send(Buffer.concat([message(e, this.shared.serverName), doneToken(DoneStatus.ERROR, 0)]));
    this.socket.end();
    this.#state = 'closed';
  }

  #accept(l: Login7, login: SqlLogin, userName: string, tls: boolean): void {
    const wanted = l.database || login.defaultDatabase;
    const database = this.shared.databases.find((d) => d.toLowerCase() === wanted.toLowerCase());
    if (!database) {
      this.record.logins.push({ userName, appName: l.appName, database: l.database, tls, accepted: false });
      const e = { number: 4060, state: 1, class: 11, message: `Cannot open database "${wanted}" requested by the login. The login failed.` };
      this.#send(Buffer.concat([message(e, this.shared.serverName), message({ number: 18456, state: 1, class: 14, message: `Login failed for user '${userName}'.` }, this.shared.serverName), doneToken(DoneStatus.ERROR, 0)]));
      this.socket.end();
      this.#state = 'closed';
      return;
    }
    this.record.logins.push({ userName, appName: l.appName, database: l.database, tls, accepted: true });
    const size = l.packetSize === 0 ? DEFAULT_PACKET_SIZE : Math.min(32767, Math.max(512, l.packetSize));
    const s = this.shared.serverName;
    this.#send(
      Buffer.concat([
        envChange(EnvChange.DATABASE, database, 'master'),
        message({ number: 5701, state: 2, class: 0, message: `Changed database context to '${database}'.` }, s),
        collationChange(COLLATION),
        envChange(EnvChange.LANGUAGE, 'us_english', ''),
        message({ number: 5703, state: 1, class: 0, message: 'Changed language setting to us_english.' }, s),
        loginAck('Microsoft SQL Server', VERSION),
        envChange(EnvChange.PACKET_SIZE, String(size), String(DEFAULT_PACKET_SIZE)),
        doneToken(DoneStatus.FINAL, 0),
      ]),
    );
    this.#packetSize = size;
    this.#session = { login: login, store: this.shared.store, database, databases: this.shared.databases, serverName: s, version: VERSION_TEXT, spid: this.#spid };
    this.#state = 'ready';
  }

  #tokens(outcomes: readonly Outcome[], final: boolean): Buffer[] {
    const out: Buffer[] = [];
    outcomes.forEach((o, i) => {
      if (o.database) out.push(envChange(EnvChange.DATABASE, o.database.to, o.database.from));
      for (const m of o.messages) out.push(message(m, this.shared.serverName));
      if (o.result) out.push(resultSet(o.result.columns, o.result.rows));
      const last = final && i === outcomes.length - 1;
      const status = (o.error ? DoneStatus.ERROR : 0) | (o.rowCount === undefined ? 0 : DoneStatus.COUNT) | (last ? 0 : DoneStatus.MORE);
      out.push((o.inProc ? doneInProc : doneToken)(status, o.curCmd, o.rowCount ?? 0));
    });
    return out;
  }

  #batch(data: Buffer): void {
    const sql = data.subarray(skipAllHeaders(data)).toString('utf16le');
    this.record.requests.push({ kind: 'batch', sql });
    const outcomes = runBatch(sql, this.#session!);
    this.#send(Buffer.concat(outcomes.length ? this.#tokens(outcomes, true) : [doneToken(DoneStatus.FINAL, 0)]));
  }

  #rpc(data: Buffer): void {
    const rpc = parseRpc(data);
    const first = rpc.parameters[0]?.value.value;
    this.record.requests.push({ kind: 'rpc', proc: rpc.proc, sql: typeof first === 'string' ? first : '', parameterNames: rpc.parameters.map((p) => p.name ?? '') });
    let body: Buffer[];
    try {
      const outcomes = execProc(rpc.proc, rpc.parameters, this.#session!);
      const failed = outcomes.some((o) => o.error);
      body = [...this.#tokens(outcomes, false), returnStatus(failed ? 1 : 0), doneProc(failed ? DoneStatus.ERROR : DoneStatus.FINAL, CurCmd.EXECUTE)];
    } catch (e) {
      if (!(e instanceof SqlError)) throw e;
      body = [message(e.server, this.shared.serverName), doneProc(DoneStatus.ERROR, CurCmd.EXECUTE)];
    }
    this.#send(Buffer.concat(body));
  }
}

export async function startTdsSimulator(options: TdsSimulatorOptions): Promise<TdsSimulator> {
  const { cert, key } = testCertificates();
  const shared: Shared = {
    options,
    store: new LoginStore(options.logins),
    // TDS 7.x runs TLS 1.2 inside PRELOGIN; TLS 1.3 is for TDS 8's TLS-first connections.
    secureContext: createSecureContext({ cert, key, maxVersion: 'TLSv1.2' }),
    databases: ['master', ...(options.databases ?? []).filter((d) => d.toLowerCase() !== 'master')],
    serverName: options.serverName ?? 'SIMULATOR',
    nextSpid: 51,
  };
  const connections: ConnectionRecord[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    connections.push(new Connection(socket, shared).record);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    store: shared.store,
    connections,
    stop: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}
