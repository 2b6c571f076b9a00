import { randomBytes } from 'node:crypto';
import type { ExpectSession } from './session.js';

/**
 * Helpers for a POSIX shell on a terminal (Unix hosts, ESXi's busybox, device shells that
 * are sh underneath). Markers and prompts are printed through printf's %s, so the echo
 * of the command that prints one never contains it and cannot match too early.
 */

/** A short random token that makes markers and prompts distinctive per session. */
export function newToken(): string {
  return randomBytes(5).toString('hex');
}

/** Single-quotes a word for a POSIX shell. For names and commands only: secrets never go on a command line. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface Marker {
  /** Shell text that prints the marker (its echo does not contain it). */
  readonly command: string;
  /** Matches the printed marker; the exit-status form captures the number. */
  readonly pattern: RegExp;
}

/** `printf` of "RPR-<name>-<token>" and a newline. */
export function marker(name: string, token: string): Marker {
  return { command: `printf 'RPR-%s-${token}\\n' ${name}`, pattern: new RegExp(`RPR-${name}-${token}\\r?\\n`) };
}

/** Prints "RPR-RC-<token>:<exit status of the previous command>". */
export function exitStatusMarker(token: string): Marker {
  return { command: `printf 'RPR-%s-${token}:%d\\n' RC "$?"`, pattern: new RegExp(`RPR-RC-${token}:(\\d+)\\r?\\n`) };
}

export interface ShellPrompt {
  readonly token: string;
  readonly pattern: RegExp;
}

/**
 * Turns whatever shell the login gave (bash, ksh, csh, busybox) into a known one, in one
 * line so nothing typed ahead is lost to the old shell: terminal echo off (answers typed at
 * prompts are never echoed back, commands do not echo), then `exec` of /bin/sh with a
 * distinctive prompt, no startup file and no history. Returns once that prompt is seen, so
 * the shell is known to be reading commands.
 */
export async function prepareShell(session: ExpectSession, options: { timeoutMs?: number } = {}): Promise<ShellPrompt> {
  const token = newToken();
  // 'RPR''-x' is "RPR-x" to the shell but not in the echo of this line.
  session.send(`stty -echo; exec env PS1='RPR''-${token}> ' PS2= ENV= HISTFILE= LC_ALL=C LANG=C TERM=dumb /bin/sh\n`);
  const pattern = new RegExp(`RPR-${token}> `);
  await session.expect([pattern], options);
  return { token, pattern };
}
