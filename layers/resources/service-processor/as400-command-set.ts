import { InvalidConfigurationError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import type { CommandAnswer, DeviceSession } from '../../expect/device.js';
import { isPasswordAnswer, type DeviceCommandSet } from '../network-device/command-set.js';

export interface CommandSetValues {
  /** The account's user name, validated by the type's rule. */
  readonly username: string;
  readonly newPassword: Secret;
  readonly currentPassword?: Secret | undefined;
}

/**
 * Runs a resource's custom command set (network-device/command-set.ts) on a logged-in session:
 * each line after the prompt before it, `{username}` filled in, a line that is `{password}` or
 * `{currentPassword}` alone typed (unechoed) at the next of `passwordPrompts` the line before it
 * brings, a password inside a line (passwordOnCommandLine) sent as a Secret. Every line may
 * change the target: the refusals make it "unchanged", and the last line must show `success`
 * (when given) or the outcome is unknown.
 */
export async function runCommandSet(session: DeviceSession, set: DeviceCommandSet, values: CommandSetValues): Promise<void> {
  const secretFor = (placeholder: string): Secret => {
    if (placeholder === '{password}') return values.newPassword;
    if (!values.currentPassword) throw new InvalidConfigurationError('commandSet.change', 'types {currentPassword}, and this change has no current password (an admin reset)');
    return values.currentPassword;
  };
  const refusals = set.refusals.map((p) => new RegExp(p));
  const success = set.success?.map((p) => new RegExp(p));
  // Each command line with the password answers that follow it.
  const steps: { parts: (string | Secret)[]; answers: Secret[] }[] = [];
  for (const line of set.change) {
    if (isPasswordAnswer(line)) {
      const last = steps[steps.length - 1];
      if (!last) throw new InvalidConfigurationError('commandSet.change', 'starts with a password answer, before any command');
      last.answers.push(secretFor(line));
      continue;
    }
    const parts = line
      .split(/(\{username\}|\{password\}|\{currentPassword\})/)
      .filter((p) => p !== '')
      .map((p) => (p === '{username}' ? values.username : p === '{password}' || p === '{currentPassword}' ? secretFor(p) : p));
    steps.push({ parts, answers: [] });
  }
  // Any of the password prompts, as one pattern: each answer is typed once, in order, at the next prompt that comes.
  const prompt = new RegExp(set.passwordPrompts.map((p) => `(?:${p})`).join('|'));
  for (const [i, step] of steps.entries()) {
    await session.command(step.parts, {
      change: true,
      answers: step.answers.map((reply): CommandAnswer => ({ pattern: prompt, reply, once: true })),
      refusals,
      ...(i === steps.length - 1 && success ? { success } : {}),
    });
  }
}
