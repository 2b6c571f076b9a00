import { InvalidConfigurationError } from '../../engine/errors.js';
import { Secret } from '../../engine/secret.js';
import type { CommandAnswer, DeviceSession } from '../../expect/device.js';
import { isPasswordAnswer, type DeviceCommandSet } from '../network-device/command-set.js';

/** What a custom command set's placeholders are filled with. */
export interface CommandSetValues {
  readonly username: string;
  readonly password: Secret;
  readonly currentPassword?: Secret | undefined;
}

/** The Secret a placeholder stands for; InvalidConfigurationError when the set needs a current password there is none of. */
function secretFor(placeholder: string, values: CommandSetValues): Secret {
  if (placeholder === '{password}') return values.password;
  if (!values.currentPassword) throw new InvalidConfigurationError('commandSet.change', 'uses {currentPassword}, but this change has no current password (an admin reset)');
  return values.currentPassword;
}

/** A command line with its placeholders filled: text as strings, passwords as Secrets (typed with sendSecret). */
function fill(line: string, values: CommandSetValues): (string | Secret)[] {
  const parts: (string | Secret)[] = [];
  for (const piece of line.split(/(\{username\}|\{password\}|\{currentPassword\})/)) {
    if (piece === '') continue;
    if (piece === '{username}') parts.push(values.username);
    else if (piece === '{password}' || piece === '{currentPassword}') parts.push(secretFor(piece, values));
    else parts.push(piece);
  }
  return parts;
}

/**
 * Runs a resource's custom command set (network-device/command-set.ts) on a logged-in session:
 * each command line is typed after the prompt before it, and the `{password}` /
 * `{currentPassword}` lines that follow it answer its password prompts in order (each once).
 * From the first line that carries a password (on it or at its prompts) every line is a change:
 * the set's refusals are "unchanged", anything but its success (when given) "outcome unknown".
 * The lines before it are plain commands (an error marker there is "unchanged").
 */
export async function runCommandSet(session: DeviceSession, set: DeviceCommandSet, values: CommandSetValues): Promise<void> {
  const prompt = new RegExp(set.passwordPrompts.map((p) => `(?:${p})`).join('|'));
  const steps: { line: string; answers: Secret[] }[] = [];
  for (const line of set.change) {
    const last = steps[steps.length - 1];
    if (isPasswordAnswer(line)) {
      if (!last) throw new InvalidConfigurationError('commandSet.change', 'starts with a password answer: a command must come first');
      last.answers.push(secretFor(line, values));
    } else steps.push({ line, answers: [] });
  }
  let changing = false;
  for (const step of steps) {
    const parts = fill(step.line, values);
    changing ||= step.answers.length > 0 || parts.some((p) => p instanceof Secret);
    const answers: CommandAnswer[] = step.answers.map((reply) => ({ pattern: prompt, reply, once: true }));
    await session.command(parts, changing ? { answers, change: true, refusals: set.refusals.map((r) => new RegExp(r)), ...(set.success ? { success: set.success.map((s) => new RegExp(s)) } : {}) } : { answers });
  }
}
