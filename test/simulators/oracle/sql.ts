/**
 * The SQL the simulator runs: ALTER USER's password and account clauses as Oracle Database 19c's
 * SQL Language Reference ("ALTER USER") writes them,
 *
 *   ALTER USER user { IDENTIFIED BY password [ REPLACE old_password ]
 *                   | ACCOUNT { LOCK | UNLOCK } | PASSWORD EXPIRE } ...
 *
 * where user and password are identifiers ("Database Object Names and Qualifiers"): unquoted, a
 * letter then letters, digits, _, $ and #, the user name upper-cased; quoted, any characters but the
 * double quote and NUL, taken as written (passwords are case-sensitive either way). Other ALTER USER
 * clauses (tablespaces, quotas, profiles, roles) are refused with ORA-00922 rather than pretended;
 * any other statement is ORA-00900. COMMIT and ROLLBACK are accepted. A trailing semicolon is an
 * error, as it is through any Oracle client API (ORA-00933 / ORA-00922): only SQL*Plus strips it.
 */
import { canonicalName, OracleError, Refusal, type OracleUser, type UserStore } from './users.js';

interface Token {
  readonly kind: 'word' | 'quoted' | 'other';
  readonly text: string;
  /** Offset in the statement (ORA- error positions). */
  readonly at: number;
}

function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      const end = sql.indexOf('"', i + 1);
      if (end < 0) throw new OracleError(1740, 'missing double quote in identifier');
      const text = sql.slice(i + 1, end);
      if (text.length === 0) throw new OracleError(1741, 'illegal zero-length identifier');
      out.push({ kind: 'quoted', text, at: i });
      i = end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      const m = /^[A-Za-z][A-Za-z0-9_$#]*/.exec(sql.slice(i))!;
      out.push({ kind: 'word', text: m[0], at: i });
      i += m[0].length;
    } else {
      out.push({ kind: 'other', text: c, at: i });
      i++;
    }
  }
  return out;
}

export interface SessionUser {
  readonly user: OracleUser;
}

/** What a statement did, for the connection's record. */
export type Outcome = 'altered' | 'committed' | 'rolled back';

/** Runs one statement as `session.user`; throws OracleError as Oracle would refuse it. */
export function runStatement(sql: string, session: SessionUser, users: UserStore): Outcome {
  const t = tokenize(sql);
  const word = (i: number) => (t[i]?.kind === 'word' ? t[i]!.text.toUpperCase() : undefined);
  if (t.length === 1 && (word(0) === 'COMMIT' || word(0) === 'ROLLBACK')) return word(0) === 'COMMIT' ? 'committed' : 'rolled back';
  if (word(0) !== 'ALTER') throw Refusal.invalidSql();
  if (word(1) !== 'USER') throw Refusal.invalidOption();
  const nameTok = t[2];
  if (!nameTok || nameTok.kind === 'other') throw new OracleError(1935, 'missing user or role name');
  const name = nameTok.kind === 'quoted' ? nameTok.text : canonicalName(nameTok.text);

  const clauses: { password?: string; old?: string; lock?: boolean; expire?: boolean } = {};
  let i = 3;
  if (i >= t.length) throw Refusal.invalidOption();
  while (i < t.length) {
    const w = word(i);
    if (w === 'IDENTIFIED' && word(i + 1) === 'BY' && clauses.password === undefined) {
      clauses.password = password(t[i + 2]);
      i += 3;
      if (word(i) === 'REPLACE') {
        clauses.old = password(t[i + 1]);
        i += 2;
      }
    } else if (w === 'ACCOUNT' && (word(i + 1) === 'LOCK' || word(i + 1) === 'UNLOCK') && clauses.lock === undefined) {
      clauses.lock = word(i + 1) === 'LOCK';
      i += 2;
    } else if (w === 'PASSWORD' && word(i + 1) === 'EXPIRE' && clauses.expire === undefined) {
      clauses.expire = true;
      i += 2;
    } else {
      throw Refusal.invalidOption();
    }
  }

  const self = name === session.user.name;
  // Without the privilege a user may only change its own password: nothing else, nobody else's.
  if (!session.user.alterUser && (!self || clauses.lock !== undefined || clauses.expire)) throw Refusal.privileges();
  const target = users.get(name);
  if (!target) throw Refusal.noSuchUser(name);
  if (clauses.password !== undefined) {
    if (self && !session.user.alterUser) {
      if (clauses.old === undefined && target.profile.verify) throw Refusal.replaceMissing();
      if (clauses.old !== undefined && !users.passwordIs(target.name, clauses.old)) throw Refusal.wrongOldPassword();
    }
    users.setPassword(target, clauses.password, clauses.old);
  }
  if (clauses.lock !== undefined) target.locked = clauses.lock;
  if (clauses.expire) target.expired = true;
  return 'altered';
}

function password(tok: Token | undefined): string {
  if (!tok || tok.kind === 'other') throw Refusal.invalidPassword();
  return tok.text;
}

/** The statement as the connection's record keeps it: every password replaced. */
export function redacted(sql: string): string {
  return sql.replace(/\b(IDENTIFIED\s+BY|REPLACE)\s+("[^"]*"|[A-Za-z][A-Za-z0-9_$#]*)/gi, '$1 ***');
}
