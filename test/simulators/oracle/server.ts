/**
 * An Oracle Database 19c simulator speaking Oracle Net (TNS) and TTC, which node-oracledb 26's Thin
 * mode logs in to with O5LOGON and a 12c verifier. Written from the open-source thin driver, as the
 * server that driver expects, file by file:
 *
 * - TNS: lib/thin/sqlnet/networkSession.js (connect2: CONNECT, then ACCEPT / REFUSE / REDIRECT;
 *   connect data over 230 bytes follows in a DATA packet), sqlnet/packet.js, sqlnet/constants.js.
 *   The ACCEPT says version 319 with "no NA services", so no ANO exchange follows (wire.ts).
 * - TTC protocol negotiation: lib/thin/protocol/messages/protocol.js (processProtocolInfo) and
 *   protocol/capabilities.js: the server's banner, character set AL32UTF8 (873), its FDO (whose
 *   national character set must be AL16UTF16, 2000) and compile / runtime capabilities. The compile
 *   capabilities say TTC field version 12 (19.1): the driver then writes and reads the 19c layouts
 *   (no pipelining tokens; no 20c fields in errors). The runtime capabilities carry TZ_EX, so the
 *   data types answer gives DBTIMEZONE (UTC) and the driver sends no `SELECT DBTIMEZONE` after login.
 * - Data types negotiation: protocol/messages/dataType.js.
 * - O5LOGON: protocol/messages/auth.js and protocol/encryptDecrypt.js (o5logon.ts); the session's
 *   returned parameters as connection.js _postConnect reads them.
 * - OALL8 (execute): protocol/messages/execute.js writeExecuteMessage, read field by field; the
 *   answer is the end-of-call ERROR message (base.js processErrorInfo) with error 0 or an ORA- error.
 * - Logoff: protocol/messages/logOff.js, then the client's DATA packet with the EOF flag.
 *
 * python-oracledb 26's Thin mode (PyPI `oracledb`, a separate Cython implementation) logs in to it
 * too; its packet trace (PYO_DEBUG_PACKETS=1) showed that it does not mark the last packet of a
 * request as node-oracledb does, so a request here ends where its TTC message does.
 * Oracle's own documentation covers the SQL and the errors (sql.ts, users.ts), not the wire format.
 *
 * What arrived is recorded per connection (the service, the user, whether the login was accepted,
 * statements with their passwords replaced, and the raw bytes received, so that a test can show no
 * password crosses the wire in clear during a login).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { makeVerifier, O5Logon, type Verifier } from './o5logon.js';
import { redacted, runStatement } from './sql.js';
import { canonicalName, OracleError, Refusal, UserStore, type OracleUser, type OracleUserSpec } from './users.js';
import { dataTypesAnswer, errorMessage, Fn, Msg, parseExecute, protocolAnswer, status, VERSION_NO } from './ttc.js';
import { acceptPacket, DATA_FLAG_EOF, dataPacket, PacketReader, PacketType, parseConnect, refusePacket, ShortMessageError, TtcReader, TtcWriter } from './wire.js';

export interface OracleSimulatorOptions {
  readonly users: readonly OracleUserSpec[];
  /** The service the listener knows (case-insensitive, as the listener matches it); `ORCL` unless set. */
  readonly serviceName?: string;
}

export interface OracleConnectionRecord {
  /** SERVICE_NAME or SID from the connect descriptor. */
  service?: string;
  /** The login's user as the server names it (upper case unless quoted). */
  user?: string;
  /** AUTH_PROGRAM_NM from phase one. */
  program?: string;
  loggedIn: boolean;
  /** The ORA- number a login was refused with. */
  refused?: number;
  /** Statements run, passwords replaced by ***, with the ORA- number of each refusal. */
  readonly statements: { sql: string; error?: number }[];
  /** The driver's password changes (OAUTH with AUTH_NEWPASSWORD): the target user and the outcome. */
  readonly passwordChanges: { user: string; error?: number }[];
  loggedOff: boolean;
  /** Every byte the client sent. */
  readonly received: Buffer[];
}

export interface OracleSimulator {
  readonly host: string;
  readonly port: number;
  /** Easy Connect: `127.0.0.1:PORT/SERVICE`. */
  readonly connectString: string;
  readonly users: UserStore;
  readonly records: readonly OracleConnectionRecord[];
  close(): Promise<void>;
}

const AUTH_MODE_CHANGE_PASSWORD = 0x2;

/** Oracle's listener refusal text for an unknown service (TNS-12514) or SID (TNS-12505). */
function refusal(err: number): Buffer {
  return refusePacket(`(DESCRIPTION=(TMP=)(VSNNUM=318767104)(ERR=${err})(ERROR_STACK=(ERROR=(CODE=${err})(EMFI=4))))`);
}

function descriptorValue(descriptor: string, key: string): string | undefined {
  return new RegExp(`\\(\\s*${key}\\s*=\\s*([^)]*?)\\s*\\)`, 'i').exec(descriptor)?.[1];
}

class OracleSession {
  readonly #reader = new PacketReader();
  #connected = false;
  #awaitingConnectData = false;
  #request: Buffer[] = [];
  #sdu = 8192;
  #login: { name: string; logon: O5Logon; program?: string } | undefined;
  #user: OracleUser | undefined;
  /** The login's keys, which the driver's changePassword() reuses. */
  #keys: O5Logon | undefined;
  #nextCursor = 1;
  readonly #cursors = new Map<number, string>();

  constructor(
    private readonly socket: Socket,
    private readonly users: UserStore,
    private readonly serviceName: string,
    private readonly fakeSalt: (name: string) => Buffer,
    readonly record: OracleConnectionRecord,
  ) {
    socket.on('data', (chunk: Buffer) => {
      record.received.push(Buffer.from(chunk));
      try {
        for (const p of this.#reader.push(chunk)) this.#packet(p.type, p.buf);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
  }

  #packet(type: number, buf: Buffer): void {
    if (!this.#connected) {
      if (type === PacketType.CONNECT) {
        const c = parseConnect(buf);
        this.#sdu = Math.max(512, Math.min(c.sdu, 65535));
        if (c.connectData === undefined && c.connectDataLength > 0) {
          this.#awaitingConnectData = true;
          return;
        }
        this.#connect(c.connectData ?? '', c.tdu);
        return;
      }
      if (type === PacketType.DATA && this.#awaitingConnectData) {
        this.#awaitingConnectData = false;
        this.#connect(buf.toString('ascii', 10), this.#sdu);
        return;
      }
      this.socket.destroy();
      return;
    }
    if (type === PacketType.MARKER) return;
    if (type !== PacketType.DATA) return;
    const flags = buf.readUInt16BE(8);
    if (flags & DATA_FLAG_EOF) {
      this.socket.end();
      return;
    }
    // A request ends where its TTC message does: node-oracledb marks its last packet
    // (TNS_DATA_FLAGS_END_OF_REQUEST) but python-oracledb does not, and neither does the server need it.
    this.#request.push(buf.subarray(10));
    let answer: Buffer;
    try {
      answer = this.#message(new TtcReader(Buffer.concat(this.#request)));
    } catch (e) {
      if (e instanceof ShortMessageError) return;
      throw e;
    }
    this.#request = [];
    this.#send(answer);
  }

  #connect(descriptor: string, tdu: number): void {
    const service = descriptorValue(descriptor, 'SERVICE_NAME');
    const sid = descriptorValue(descriptor, 'SID');
    this.record.service = service ?? sid;
    if ((service ?? sid)?.toUpperCase() !== this.serviceName.toUpperCase()) {
      this.socket.end(refusal(service !== undefined || sid === undefined ? 12514 : 12505));
      return;
    }
    this.socket.write(acceptPacket(this.#sdu, Math.max(tdu, this.#sdu)));
    this.#reader.largeSdu = true;
    this.#connected = true;
  }

  #send(payload: Buffer): void {
    const room = this.#sdu - 10;
    for (let i = 0; i < payload.length; i += room) this.socket.write(dataPacket(payload.subarray(i, i + room), true));
  }

  #message(r: TtcReader): Buffer {
    const type = r.u8();
    if (type === Msg.PROTOCOL) return protocolAnswer();
    if (type === Msg.DATA_TYPES) return dataTypesAnswer(r);
    if (type === Msg.PIGGYBACK) {
      this.#piggyback(r);
      return this.#message(r);
    }
    if (type !== Msg.FUNCTION) return errorMessage(new OracleError(3115, 'unsupported network datatype or representation'));
    const fn = r.u8();
    r.u8(); // sequence number
    try {
      switch (fn) {
        case Fn.AUTH_PHASE_ONE:
          return this.#phaseOne(r);
        case Fn.AUTH_PHASE_TWO:
          return this.#user ? this.#changePassword(r) : this.#phaseTwo(r);
        case Fn.EXECUTE:
          return this.#execute(r);
        case Fn.REEXECUTE:
          return this.#reexecute(r);
        case Fn.COMMIT:
        case Fn.ROLLBACK:
        case Fn.PING:
          return this.#requireLogin(() => status());
        case Fn.LOGOFF:
          return this.#requireLogin(() => {
            this.record.loggedOff = true;
            this.#user = undefined;
            return status();
          });
        default:
          return errorMessage(new OracleError(3115, 'unsupported network datatype or representation'));
      }
    } catch (e) {
      if (e instanceof OracleError) return errorMessage(e);
      throw e;
    }
  }

  #requireLogin(then: () => Buffer): Buffer {
    return this.#user ? then() : errorMessage(new OracleError(1012, 'not logged on'));
  }

  /** Close-cursor piggybacks (base.js writeCursorsPiggyBack): header, a pointer, UB4 count, UB4 ids. */
  #piggyback(r: TtcReader): void {
    const fn = r.u8();
    r.u8();
    if (fn !== Fn.CLOSE_CURSORS) throw new Error(`piggyback ${fn} is not simulated`);
    r.u8();
    for (let n = r.int(4); n > 0; n--) this.#cursors.delete(r.int(4));
  }

  /** The pairs after the user name in both auth phases: has-user, UB4 user length, UB4 mode, a pointer, UB4 count, two pointers, the name. */
  #authHeader(r: TtcReader): { name: string; mode: number; pairs: Map<string, { value: string; flags: number }> } {
    const hasUser = r.u8();
    r.int(4);
    const mode = r.int(4);
    r.u8();
    const count = r.int(4);
    r.u8();
    r.u8();
    const name = hasUser ? (r.bytesWithLength() ?? Buffer.alloc(0)).toString('utf8') : '';
    const pairs = new Map<string, { value: string; flags: number }>();
    for (let i = 0; i < count; i++) {
      const kv = r.keyValue();
      pairs.set(kv.key, { value: kv.value.toString('utf8'), flags: kv.flags });
    }
    return { name, mode, pairs };
  }

  #phaseOne(r: TtcReader): Buffer {
    const { name, pairs } = this.#authHeader(r);
    const canonical = canonicalName(name);
    const program = pairs.get('AUTH_PROGRAM_NM')?.value;
    this.record.user = canonical;
    if (program !== undefined) this.record.program = program;
    if (name.length === 0) throw Refusal.nullPassword();
    // An unknown user gets a verifier made up from its name, the same at every attempt, so that
    // phase one does not tell which names exist.
    const verifier: Verifier = this.users.get(canonical)?.verifier ?? makeVerifier(randomBytes(16).toString('hex'), this.fakeSalt(canonical));
    const logon = new O5Logon(verifier);
    this.#login = { name: canonical, logon, ...(program !== undefined ? { program } : {}) };
    const w = new TtcWriter().u8(Msg.PARAMETER);
    const params = logon.phaseOne();
    w.int(params.length);
    for (const p of params) w.keyValue(p.key, p.value, p.flags ?? 0);
    return Buffer.concat([w.toBuffer(), status()]);
  }

  #phaseTwo(r: TtcReader): Buffer {
    const { name, mode, pairs } = this.#authHeader(r);
    const login = this.#login;
    const canonical = canonicalName(name);
    try {
      if (!login || login.name !== canonical) throw Refusal.wrongLogin();
      const user = this.users.get(canonical);
      const sessKey = pairs.get('AUTH_SESSKEY')?.value;
      const speedy = pairs.get('AUTH_PBKDF2_SPEEDY_KEY')?.value;
      if (!user || sessKey === undefined || speedy === undefined) throw Refusal.wrongLogin();
      login.logon.combine(sessKey);
      // A locked account is refused whatever the password, and a wrong one is not counted then.
      if (user.locked) throw Refusal.locked();
      const right = login.logon.speedyKeyMatches(speedy);
      this.users.loginChecked(user, right);
      if (!right) throw Refusal.wrongLogin();
      const newPassword = pairs.get('AUTH_NEWPASSWORD')?.value;
      if (mode & AUTH_MODE_CHANGE_PASSWORD && newPassword !== undefined) {
        const next = login.logon.password(newPassword);
        const old = login.logon.password(pairs.get('AUTH_PASSWORD')?.value ?? '');
        if (next === undefined) throw Refusal.invalidPassword();
        this.users.setPassword(user, next, old);
        this.record.passwordChanges.push({ user: user.name });
      } else if (user.expired) {
        throw Refusal.expired();
      }
      this.#user = user;
      this.#keys = login.logon;
      this.record.loggedIn = true;
      return Buffer.concat([this.#sessionParameters(login.logon), status()]);
    } catch (e) {
      if (e instanceof OracleError) this.record.refused = e.number;
      throw e;
    } finally {
      this.#login = undefined;
    }
  }

  #sessionParameters(logon: O5Logon): Buffer {
    const params: [string, string][] = [
      ['AUTH_VERSION_STRING', '- Production'],
      ['AUTH_VERSION_SQL', '19'],
      ['AUTH_XACTION_TRAITS', '3'],
      ['AUTH_VERSION_NO', String(VERSION_NO)],
      ['AUTH_SESSION_ID', String(100 + Math.floor(Math.random() * 900))],
      ['AUTH_SERIAL_NUM', String(1 + Math.floor(Math.random() * 60000))],
      ['AUTH_INSTANCE_NO', '1'],
      ['AUTH_SVR_RESPONSE', logon.serverResponse()],
      ['AUTH_DBNAME', this.serviceName.toUpperCase()],
      ['AUTH_INSTANCENAME', this.serviceName.toLowerCase()],
      ['AUTH_SC_SERVICE_NAME', this.serviceName.toLowerCase()],
      ['AUTH_SC_DB_DOMAIN', ''],
      ['AUTH_SC_DBUNIQUE_NAME', this.serviceName.toLowerCase()],
      ['AUTH_MAX_OPEN_CURSORS', '300'],
      ['AUTH_MAX_IDEN_LENGTH', '128'],
    ];
    const w = new TtcWriter().u8(Msg.PARAMETER).int(params.length);
    for (const [k, v] of params) w.keyValue(k, v);
    return w.toBuffer();
  }

  /** The driver's changePassword() on an open session: OAUTH with AUTH_PASSWORD and AUTH_NEWPASSWORD under the session's combined key. */
  #changePassword(r: TtcReader): Buffer {
    const { name, pairs } = this.#authHeader(r);
    const session = this.#user!;
    const target = canonicalName(name);
    try {
      const keys = this.#keys!;
      const old = keys.password(pairs.get('AUTH_PASSWORD')?.value ?? '');
      const next = keys.password(pairs.get('AUTH_NEWPASSWORD')?.value ?? '');
      if (old === undefined || next === undefined) throw Refusal.invalidPassword();
      if (target !== session.name && !session.alterUser) throw Refusal.privileges();
      const user = this.users.get(target);
      if (!user) throw Refusal.noSuchUser(target);
      if (!this.users.passwordIs(target, old)) throw Refusal.wrongOldPassword();
      this.users.setPassword(user, next, old);
      this.record.passwordChanges.push({ user: target });
      return status();
    } catch (e) {
      if (e instanceof OracleError) this.record.passwordChanges.push({ user: target, error: e.number });
      throw e;
    }
  }

  /** OALL8: a new statement gets a cursor, which the driver names again to run it again. */
  #execute(r: TtcReader): Buffer {
    if (!this.#user) throw new OracleError(1012, 'not logged on');
    const call = parseExecute(r);
    let cursor = call.cursor;
    if (call.sql !== undefined) {
      if (cursor === 0) cursor = this.#nextCursor++;
      this.#cursors.set(cursor, call.sql);
    }
    return this.#run(cursor, this.#cursors.get(cursor), call.binds);
  }

  /** A cached statement's cursor run again (execute.js writeReExecuteMessage): cursor, iterations, two flag words. */
  #reexecute(r: TtcReader): Buffer {
    if (!this.#user) throw new OracleError(1012, 'not logged on');
    const cursor = r.int(4);
    r.int(4);
    r.int(4);
    r.int(4);
    return this.#run(cursor, this.#cursors.get(cursor), r.left > 0 ? 1 : 0);
  }

  #run(cursor: number, sql: string | undefined, binds: number): Buffer {
    if (sql === undefined || !this.#user) throw new OracleError(1001, 'invalid cursor');
    const entry: { sql: string; error?: number } = { sql: redacted(sql) };
    this.record.statements.push(entry);
    try {
      if (binds > 0) throw new OracleError(1036, 'illegal variable name/number');
      runStatement(sql, { user: this.#user }, this.users);
      return errorMessage(undefined, cursor);
    } catch (e) {
      if (e instanceof OracleError) {
        entry.error = e.number;
        return errorMessage(e, cursor);
      }
      throw e;
    }
  }
}

/** Starts a listener on 127.0.0.1 and a free port. */
export async function startOracleSimulator(options: OracleSimulatorOptions): Promise<OracleSimulator> {
  const users = new UserStore(options.users);
  const serviceName = options.serviceName ?? 'ORCL';
  const records: OracleConnectionRecord[] = [];
  const sockets = new Set<Socket>();
  const secret = randomBytes(32);
  const fakeSalt = (name: string) => createHash('sha256').update(secret).update(name).digest().subarray(0, 16);
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const record: OracleConnectionRecord = { loggedIn: false, loggedOff: false, statements: [], passwordChanges: [], received: [] };
    records.push(record);
    new OracleSession(socket, users, serviceName, fakeSalt, record);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    connectString: `127.0.0.1:${port}/${serviceName}`,
    users,
    records,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
