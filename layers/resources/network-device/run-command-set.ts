import { InvalidConfigurationError, OutcomeUnknownError, TargetUnchangedError } from '../../engine/errors.js';
import { Secret } from '../../engine/secret.js';
import type { CommandAnswer, DeviceSession } from '../../expect/device.js';
import { isPasswordAnswer, type DeviceCommandSet } from './command-set.js';

/** One line of a command set, with the password-prompt answers (the `{password}` lines) that follow it. */
interface Step {
  readonly parts: readonly (string | Secret)[];
  readonly answers: readonly Secret[];
}

/**
 * Runs a resource's custom command set (command-set.ts) on a logged-in, enabled session: each
 * line after the prompt before it, placeholders filled, `{password}` / `{currentPassword}` lines
 * typed at the password prompts of the line before them. Every line from the first that carries
 * a password on is the change: a refusal the set names is TargetUnchangedError (unless an earlier
 * line of the change was taken: then OutcomeUnknownError), an error marker is OutcomeUnknownError,
 * and the last line's answer must be the set's `success` when it names one. Configuration mode,
 * when the set asks for it, is entered first and left after a success; after a refusal it is left
 * as well, best effort (DeviceSession.close leaves it on every other path).
 */
export async function runCommandSet(
  session: DeviceSession,
  set: DeviceCommandSet,
  values: { readonly username: string; readonly password: Secret; readonly currentPassword?: Secret | undefined },
): Promise<void> {
  const secretOf = (name: string): Secret => {
    if (name === 'password') return values.password;
    if (!values.currentPassword) throw new InvalidConfigurationError('currentPassword', 'the command set types {currentPassword}, and this change has no current password');
    return values.currentPassword;
  };
  const steps: Step[] = [];
  for (const line of set.change) {
    if (isPasswordAnswer(line)) {
      const last = steps.at(-1);
      if (!last) throw new InvalidConfigurationError('commandSet.change', 'starts with a password line, which has no command before it to answer');
      steps[steps.length - 1] = { ...last, answers: [...last.answers, secretOf(line.slice(1, -1))] };
      continue;
    }
    const parts: (string | Secret)[] = [];
    for (const piece of line.split(/(\{username\}|\{password\}|\{currentPassword\})/)) {
      if (piece === '{username}') parts.push(values.username);
      else if (piece === '{password}' || piece === '{currentPassword}') parts.push(secretOf(piece.slice(1, -1)));
      else if (piece !== '') parts.push(piece);
    }
    steps.push({ parts, answers: [] });
  }
  const carries = (s: Step) => s.answers.length > 0 || s.parts.some((p) => p instanceof Secret);
  const first = steps.findIndex(carries);
  const prompt = new RegExp(set.passwordPrompts.map((p) => `(?:${p})`).join('|'));
  const success = set.success?.map((s) => new RegExp(s));
  const refusals = set.refusals.map((r) => new RegExp(r));
  if (set.configurationMode) await session.configure();
  let taken = false;
  try {
    for (const [i, step] of steps.entries()) {
      const answers: CommandAnswer[] = step.answers.map((reply) => ({ pattern: prompt, reply, once: true }));
      if (first < 0 || i < first) {
        await session.command(step.parts, { answers });
        continue;
      }
      try {
        // Success is the last line's answer: a line before it may only prepare (read a password into a variable).
        const last = i === steps.length - 1;
        await session.command(step.parts, { answers, change: true, refusals, ...(last && success ? { success } : {}) });
        taken = true;
      } catch (e) {
        if (taken && e instanceof TargetUnchangedError) throw new OutcomeUnknownError(`${e.message} (after an earlier line of the change was taken)`, { cause: e });
        throw e;
      }
    }
  } catch (e) {
    if (set.configurationMode && !session.closed && e instanceof TargetUnchangedError) await session.leaveConfiguration().catch(() => undefined);
    throw e;
  }
  if (set.configurationMode) await session.leaveConfiguration();
}
