/**
 * The CL commands and SQL statements the simulated IBM i runs for a PASE session: CL through the
 * PASE `system` utility (and QSYS2.QCMDEXC), SQL through QShell's `db2` utility. Sources (IBM
 * Documentation):
 * - "IBM PASE for i system utility" (rzalf/rzalfpasesystem.htm, 7.4): `system [-beEhiIkKnOpqsv]
 *   CL-command [CL-parameters ...]`; messages go to stdout, escape messages to stderr, as
 *   "MsgId: text" (-n drops the id; QShell's "system - Run CL command", rzahz/rzahzsystem.htm).
 * - "Job logs" (rzaks/rzaksjoblogs.htm): a job log holds the commands run in the job and the
 *   messages sent to it. Whether the IBM-supplied commands mask their password parameters in the
 *   job log (the PARM statement's DSPINPUT) we could not confirm, so this simulator logs a CL
 *   request as it was entered: the conservative reading.
 * - CL syntax ("CL concepts": parameters in keyword and positional form; unquoted values are
 *   folded to uppercase, quoted ones keep their case; '' is a quote inside a quoted string).
 * - "Change User Password (QSYCHGPW) API" (apis/QSYCHGPW.htm): parameters user, current, new,
 *   error code, then optional lengths and CCSIDs. An error code whose bytes-provided is 0 makes
 *   the API send its errors as escape messages. Without the length parameters the API takes 10
 *   characters of each password: a best guess at the documented default.
 * - Db2 for i SQL reference, CALL (our reading, not quoted): a CALL naming a program with no
 *   procedure defined calls the program, character constants passed as CHAR, integers as INTEGER.
 * - "Qshell db2 utility" (rzahz/rzahzdb2utility.htm, 7.1): `db2 [-v] [-S] [-T c | -t | -d]
 *   [-r rdb -u user -p password] [statement | -f file lib]`, "directly, interactively, or from a
 *   file"; a backslash at a line's end continues the statement. Its output wordings here
 *   (DB20000I, the CLI ERROR block, SQL0443 for a called program's escape) are best guesses.
 * - CPD0030 / CPF0006 (command not found) and CPD0031 / CPF0001 (not allowed in this setting):
 *   IBM's ids, texts from memory of QCPFMSG (best guesses).
 */
import { IbmRefusal, MESSAGES, type IbmMessage, type IbmSecurity, type UserProfile } from './ibm-i-security.js';

/** What a command may do to the session's job. */
export interface JobContext {
  readonly security: IbmSecurity;
  readonly user: UserProfile;
  /** The job log, as DSPJOBLOG would show it: request messages and messages, one line each. */
  readonly joblog: string[];
  /** SQL statement texts, as a database monitor or the plan cache could capture them. */
  readonly statements: string[];
  /** Asked before a change is applied; a message refuses it (the test's fault switch). */
  refusal(): string | undefined;
  applied(what: string): void;
}

export interface CommandResult {
  /** Messages for the caller, the last one the escape message when `failed`. */
  readonly messages: readonly IbmMessage[];
  readonly failed: boolean;
  /** A refusal the test armed, printed as is. */
  readonly refusedWith?: string;
}

interface ClCommand {
  readonly name: string;
  readonly keywords: Map<string, string>;
  readonly positional: string[];
}

/** Splits a CL command into its name and parameters (each the raw text between its parentheses). */
export function parseCl(text: string): ClCommand | undefined {
  const m = /^\s*(?:[A-Za-z0-9$#@_]+\/)?([A-Za-z$#@][A-Za-z0-9$#@_]*)(.*)$/s.exec(text);
  if (!m) return undefined;
  const keywords = new Map<string, string>();
  const positional: string[] = [];
  let rest = m[2] ?? '';
  for (;;) {
    rest = rest.trimStart();
    if (rest === '') break;
    const kw = /^([A-Za-z][A-Za-z0-9]*)\(/.exec(rest);
    if (kw) {
      const end = closing(rest, kw[0].length);
      if (end < 0) return undefined;
      keywords.set(kw[1]!.toUpperCase(), rest.slice(kw[0].length, end));
      rest = rest.slice(end + 1);
    } else {
      const one = firstValue(rest);
      if (!one) return undefined;
      positional.push(one);
      rest = rest.slice(one.length);
    }
  }
  return { name: m[1]!.toUpperCase(), keywords, positional };
}

function closing(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === "'") {
      i = s.indexOf("'", i + 1);
      while (i >= 0 && s[i + 1] === "'") i = s.indexOf("'", i + 2);
      if (i < 0) return -1;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

function firstValue(s: string): string | undefined {
  const m = /^(?:[Xx]?'(?:[^']|'')*'|[^\s()']+)/.exec(s);
  return m?.[0];
}

/** The elements of a parameter value: quoted strings keep their case, bare words are uppercased. */
export function clValues(raw: string): string[] {
  const out: string[] = [];
  let rest = raw.trim();
  while (rest !== '') {
    const one = firstValue(rest);
    if (!one) break;
    out.push(clValue(one));
    rest = rest.slice(one.length).trimStart();
  }
  return out;
}

function clValue(token: string): string {
  if (/^[Xx]'/.test(token)) return hex(token.slice(2, -1));
  if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
  return token.toUpperCase();
}

function hex(digits: string): string {
  return String.fromCharCode(...(digits.match(/../g) ?? []).map((h) => parseInt(h, 16)));
}

/** Runs one CL command in the session's job, logged first as its request message. */
export function runCl(ctx: JobContext, text: string): CommandResult {
  ctx.joblog.push(text.trim());
  const cmd = parseCl(text);
  let result: CommandResult;
  try {
    if (!cmd) throw new IbmRefusal([{ id: 'CPF0006', text: 'Errors occurred in command.' }]);
    result = dispatch(ctx, cmd);
  } catch (e) {
    if (!(e instanceof IbmRefusal)) throw e;
    result = { messages: e.messages, failed: true };
  }
  for (const m of result.messages) ctx.joblog.push(`${m.id} ${m.text}`);
  if (result.refusedWith !== undefined) ctx.joblog.push(result.refusedWith);
  return result;
}

function dispatch(ctx: JobContext, cmd: ClCommand): CommandResult {
  switch (cmd.name) {
    case 'CHGUSRPRF':
      return chgusrprf(ctx, cmd);
    case 'CHKPWD':
      return chkpwd(ctx, cmd);
    case 'CALL':
      return call(ctx, cmd);
    case 'CHGPWD':
      // CHGPWD is a display (interactive jobs only); a PASE session's job is not one.
      return fail({ id: 'CPD0031', text: 'Command CHGPWD not allowed in this setting.' }, { id: 'CPF0001', text: 'Error found on CHGPWD command.' });
    default:
      return fail({ id: 'CPD0030', text: `Command ${cmd.name} in library *LIBL not found.` }, { id: 'CPF0006', text: 'Errors occurred in command.' });
  }
}

function fail(...messages: IbmMessage[]): CommandResult {
  return { messages, failed: true };
}

function param(cmd: ClCommand, keyword: string, position: number): string[] | undefined {
  const raw = cmd.keywords.get(keyword) ?? cmd.positional[position];
  return raw === undefined ? undefined : clValues(raw);
}

function chgusrprf(ctx: JobContext, cmd: ClCommand): CommandResult {
  const user = param(cmd, 'USRPRF', 0)?.[0];
  if (!user) return fail({ id: 'CPD0071', text: 'Parameter USRPRF required.' }, { id: 'CPF0001', text: 'Error found on CHGUSRPRF command.' });
  const password = param(cmd, 'PASSWORD', 1)?.[0];
  const status = param(cmd, 'STATUS', -1)?.[0];
  const p = ctx.security.setPassword(ctx.user, user, password ?? '*SAME');
  if (password !== undefined && password !== '*SAME') {
    const refused = ctx.refusal();
    if (refused !== undefined) return { messages: [], failed: true, refusedWith: refused };
    ctx.security.apply(p, password);
    ctx.applied(`password of user profile ${p.name}`);
  }
  if (status === '*ENABLED' || status === '*DISABLED') {
    p.status = status;
    if (status === '*ENABLED') p.invalidSignons = 0;
  }
  if (param(cmd, 'PWDEXP', -1)?.[0] === '*YES') p.passwordExpired = true;
  return { messages: [MESSAGES.profileChanged(p.name)], failed: false };
}

function chkpwd(ctx: JobContext, cmd: ClCommand): CommandResult {
  const pw = param(cmd, 'PASSWORD', 0)?.[0] ?? '';
  return ctx.security.matches(ctx.user, pw) ? { messages: [], failed: false } : fail(MESSAGES.checkFailed());
}

function call(ctx: JobContext, cmd: ClCommand): CommandResult {
  const pgm = param(cmd, 'PGM', 0)?.[0] ?? '';
  const args = param(cmd, 'PARM', 1) ?? [];
  return callProgram(ctx, pgm, args);
}

/** A program call with its arguments as the program receives them (CL CALL or SQL CALL). */
export function callProgram(ctx: JobContext, program: string, args: readonly (string | number)[]): CommandResult {
  const name = program.toUpperCase().replace(/^(QSYS|\*LIBL)[/.]/, '');
  if (name !== 'QSYCHGPW') {
    return fail({ id: 'CPD0170', text: `Program ${name} in library *LIBL not found.` }); // best guess
  }
  const [user, current, next, errorCode, curLen, , newLen] = args;
  const text = (v: string | number | undefined, len: string | number | undefined): string => {
    const s = typeof v === 'string' ? v : '';
    return typeof len === 'number' ? s.slice(0, len) : s.slice(0, 10);
  };
  const escapes = typeof errorCode === 'string' && errorCode.length >= 4 && errorCode.slice(0, 4) === '\0\0\0\0';
  try {
    if (typeof user !== 'string' || typeof current !== 'string' || typeof next !== 'string' || errorCode === undefined) {
      throw new IbmRefusal([{ id: 'CPF3C21', text: 'Format name or parameter not valid.' }]); // best guess
    }
    const cur = text(current, curLen);
    const nw = text(next, newLen);
    const p = ctx.security.changePassword(ctx.user, user.trim(), cur, nw);
    const refused = ctx.refusal();
    if (refused !== undefined) return { messages: [], failed: true, refusedWith: refused };
    ctx.security.apply(p, nw);
    ctx.applied(`password of user profile ${p.name}`);
    return { messages: [], failed: false };
  } catch (e) {
    if (!(e instanceof IbmRefusal)) throw e;
    // With bytes-provided > 0 the error goes back in the error code structure, not as a message.
    return escapes ? { messages: e.messages, failed: true } : { messages: [], failed: true };
  }
}

/** One SQL statement through QShell's db2 utility: what db2 prints, and whether it failed. */
export function runSql(ctx: JobContext, statement: string): { readonly output: string; readonly failed: boolean } {
  const sql = statement.trim().replace(/;$/, '').trim();
  if (sql === '') return { output: '', failed: false };
  ctx.statements.push(sql);
  const m = /^CALL\s+([A-Za-z0-9_$#@]+(?:[./][A-Za-z0-9_$#@]+)?)\s*\((.*)\)$/is.exec(sql);
  const args = m ? sqlArgs(m[2]!) : undefined;
  if (!m || !args) return failed(cliError('42601', -104, 'Token was not valid.')); // best guess at the text
  const routine = m[1]!.toUpperCase().replace('/', '.');
  let result: CommandResult;
  if (routine === 'QSYS2.QCMDEXC' || routine === 'QCMDEXC') {
    if (typeof args[0] !== 'string') return failed(cliError('42884', -440, 'Routine QCMDEXC in *LIBL not found with specified parameters.'));
    result = runCl(ctx, args[0]);
  } else {
    result = callProgram(ctx, routine, args);
    for (const msgOut of result.messages) ctx.joblog.push(`${msgOut.id} ${msgOut.text}`);
    if (result.refusedWith !== undefined) ctx.joblog.push(result.refusedWith);
  }
  if (result.refusedWith !== undefined) return failed(`${result.refusedWith}\n`);
  if (!result.failed) return { output: 'DB20000I  THE SQL COMMAND COMPLETED SUCCESSFULLY.\n', failed: false };
  const last = result.messages[result.messages.length - 1];
  const why = last ? `${last.id}: ${last.text}` : `External program ${routine} failed.`;
  ctx.joblog.push(`SQL0443 ${why}`);
  return failed(cliError('38501', -443, why));
}

function failed(output: string): { readonly output: string; readonly failed: boolean } {
  return { output, failed: true };
}

function cliError(state: string, code: number, text: string): string {
  return ` **** CLI ERROR *****\n         SQLSTATE: ${state}\nNATIVE ERROR CODE: ${code}\n${text}\n`;
}

/** SQL CALL arguments: 'strings' ('' escapes), X'hex' and integers. */
function sqlArgs(list: string): (string | number)[] | undefined {
  const out: (string | number)[] = [];
  let rest = list.trim();
  while (rest !== '') {
    const m = /^(?:([Xx])'([0-9A-Fa-f]*)'|'((?:[^']|'')*)'|(-?[0-9]+))\s*(,|$)/.exec(rest);
    if (!m) return undefined;
    if (m[1]) out.push(hex(m[2]!));
    else if (m[3] !== undefined) out.push(m[3].replace(/''/g, "'"));
    else out.push(Number(m[4]));
    rest = rest.slice(m[0].length).trimStart();
  }
  return out;
}
