import { z } from 'zod';
import { hasControlCharacter } from '../../engine/policy.js';

/**
 * A prompt the expect engine waits for, as a regular-expression source matched against
 * the end of the device's output. One line, compiles, and cannot match nothing (a pattern
 * that matches the empty string would settle before the device has answered).
 */
export const promptSchema = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => !hasControlCharacter(s), 'must be one line without control characters')
  .refine((s) => compiles(s), 'must be a valid regular expression')
  .refine((s) => !compiles(s) || !new RegExp(s).test(''), 'must not match an empty string');

function compiles(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/**
 * A local user name on a network device or service processor. It is typed on the device's
 * command line (`username NAME secret ...`), where whitespace ends the word and `?` asks for help,
 * so only letters, digits and `. _ @ -` are taken.
 */
export function deviceUsername(maxLength: number) {
  return z
    .string()
    .regex(
      new RegExp(`^[A-Za-z0-9_][A-Za-z0-9._@-]{0,${maxLength - 1}}$`),
      `must be letters, digits, ".", "_", "@" or "-", starting with a letter, digit or "_" (at most ${maxLength})`,
    );
}

/** The port to use when none is given: the protocol's well-known one. */
export function cliPort(r: { protocol: 'ssh' | 'telnet'; port?: number | undefined }): number {
  return r.port ?? (r.protocol === 'telnet' ? 23 : 22);
}

/**
 * Characters a device command line reads as something else anywhere in a word: `?` prints help
 * mid-command on IOS-style CLIs, and whitespace splits the argument. Refused in passwords on the
 * types whose passwords are command arguments. (`!` and `#` are comments only where a word starts,
 * so those types forbid them first, with the policy's `forbiddenFirst`, not everywhere.)
 */
export const DEVICE_CLI_FORBIDDEN = '? ';

/** What an IOS-style command line reads as a comment where a word starts. */
export const COMMENT_FIRST = '!#';

