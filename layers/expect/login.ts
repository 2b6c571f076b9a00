import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../engine/errors.js';
import type { Secret } from '../engine/secret.js';
import { said } from './outcome.js';
import type { ExpectSession } from './session.js';

/**
 * What a login conversation looks like on one kind of target: plain data. Prompt patterns
 * (`username`, `password`, `ready`, `stops`, `more`) are used as given, so anchor them at the end
 * of the output (`\s*$`); `refused` matches anywhere.
 */
export interface LoginConversation {
  readonly username: RegExp;
  readonly password: RegExp;
  /** Text that says the login was refused; it counts only once something was typed (a banner may warn intruders that access is denied). */
  readonly refused: RegExp;
  /** Prompts that say the session is ready; answerLogin returns the index of the one seen. */
  readonly ready: readonly RegExp[];
  /** A ready prompt counts only once the password was typed: a shell login whose loose prompt pattern a banner could match. */
  readonly readyOnlyAfterPassword?: boolean;
  /** Questions the login must not answer (a license to accept): TargetUnchangedError(message), nothing typed in reply. */
  readonly stops?: readonly { readonly pattern: RegExp; readonly message: string }[];
  /** Prompts answered with a space: paging (`--More--`), "Press any key to continue". */
  readonly more?: readonly RegExp[];
  /** What ends a typed line; "\n" unless the target needs "\r". */
  readonly newline?: string;
  /** The target, in messages: "the device", "the target". */
  readonly who: string;
  /** The login, in messages: "the login", "the Telnet login". */
  readonly what: string;
}

export interface LoginAnswers {
  /** Undefined: a login with the password alone (a line password); a user name prompt is then AuthenticationError. */
  readonly username?: string;
  readonly password?: Secret;
  /**
   * The transport, when it may be 7-bit: a Telnet stream that did not agree to binary mode
   * (`binary: false`) would mangle a password outside ASCII, which is then refused before it is sent.
   */
  readonly link?: { readonly binary?: boolean };
  readonly timeoutMs?: number;
}

/** A login that goes on longer than this without a ready prompt is given up. */
const MAX_ROUNDS = 20;

/**
 * Answers a login: the user name prompt (when asked), the password prompt (also alone), paging and
 * "press any key" prompts, until a ready prompt shows; returns its index in `ready`. A refusal is
 * AuthenticationError: the refusal text once something was typed, the user name asked twice or
 * after the password, the password asked again. A stop is TargetUnchangedError. Messages are
 * redacted with the session's redactor (which holds the password once it is typed).
 */
export async function answerLogin(session: ExpectSession, c: LoginConversation, answers: LoginAnswers): Promise<number> {
  const t = answers.timeoutMs === undefined ? {} : { timeoutMs: answers.timeoutMs };
  const nl = c.newline ?? '\n';
  const stops = c.stops ?? [];
  const more = c.more ?? [];
  const whose = answers.username === undefined ? '' : ` of ${JSON.stringify(answers.username)}`;
  const refused = (why: string) => new AuthenticationError(session.redactor.redact(`${c.who} refused ${c.what}${whose}: ${why}`));
  const never = /(?!)/;
  let sentUser = 0;
  let sentPassword = 0;
  let checked = false;
  // Negotiation is over once a prompt shows: a 7-bit link would mangle a non-ASCII password.
  const checkLink = () => {
    if (checked) return;
    checked = true;
    if (answers.link?.binary === false && answers.password && !isAscii(answers.password.reveal())) {
      throw new InvalidConfigurationError('password', 'has characters outside ASCII, and the Telnet server did not agree to binary mode, which they need');
    }
  };
  for (let rounds = 0; rounds < MAX_ROUNDS; rounds++) {
    const ready = c.readyOnlyAfterPassword && !sentPassword ? c.ready.map(() => never) : c.ready;
    const failed = sentUser || sentPassword ? c.refused : never;
    const m = await session.expect([...ready, c.username, c.password, failed, ...stops.map((s) => s.pattern), ...more], t);
    if (m.index < ready.length) return m.index;
    const i = m.index - ready.length;
    if (i === 0) {
      if (sentPassword) throw refused(`it asked for the user name again after the password (${said(session.redactor.redact(m.before))})`);
      if (answers.username === undefined) throw new AuthenticationError(`${c.who} asks for a user name and none is configured for this login`);
      if (++sentUser > 1) throw refused('it asked for the user name twice');
      checkLink();
      session.send(answers.username + nl);
    } else if (i === 1) {
      if (!answers.password) throw new AuthenticationError(`${c.who} asks for a password and none is configured for this login`);
      if (sentPassword++) throw refused(`it asked for the password again (${said(session.redactor.redact(m.before))})`);
      checkLink();
      session.sendSecret(answers.password, nl);
    } else if (i === 2) {
      throw refused(said(session.redactor.redact(m.match[0])));
    } else if (i - 3 < stops.length) {
      throw new TargetUnchangedError(stops[i - 3]!.message);
    } else {
      session.send(' ');
    }
  }
  throw new TargetUnchangedError(`${c.who} kept asking during ${c.what} without showing a prompt`);
}

export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
