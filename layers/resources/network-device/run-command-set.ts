import { TargetUnchangedError } from '../../engine/errors.js';
import type { Secret } from '../../engine/secret.js';
import type { CommandAnswer, DeviceSession } from '../../expect/device.js';
import { isPasswordAnswer, type DeviceCommandSet } from './command-set.js';

/**
 * Runs a resource's own change command (`commandSet`, validated by deviceCommandSetSchema) on a
 * logged-in session, in place of the driver's built-in one: `{username}` filled in, each line
 * that is `{password}` or `{currentPassword}` alone typed at the next of `passwordPrompts` the
 * line before it asks, a password inside a line (passwordOnCommandLine) typed as a Secret.
 * Every line may change the device (anything but its refusals is "outcome unknown" on error);
 * a line that carries a password must also match `success` when one is given. Configuration
 * mode is entered first when asked, and left after a change the device took.
 */
export async function runCommandSet(
  session: DeviceSession,
  set: DeviceCommandSet,
  values: { readonly username: string; readonly password: Secret; readonly currentPassword?: Secret | undefined },
): Promise<void> {
  const prompts = new RegExp(set.passwordPrompts.map((p) => `(?:${p})`).join('|'));
  const refusals = set.refusals.map((r) => new RegExp(r));
  const success = set.success?.map((r) => new RegExp(r));
  const secretOf = (placeholder: string): Secret => {
    if (placeholder === '{password}') return values.password;
    if (values.currentPassword === undefined) throw new TargetUnchangedError('the custom command set types {currentPassword}, which this change does not have (an admin reset)');
    return values.currentPassword;
  };
  // Lines grouped as a command and the password answers that follow it.
  const commands: { parts: (string | Secret)[]; answers: CommandAnswer[] }[] = [];
  for (const line of set.change) {
    if (isPasswordAnswer(line)) {
      const last = commands.at(-1);
      if (!last) throw new TargetUnchangedError('the custom command set starts with a password line, which no command asks for');
      last.answers.push({ pattern: prompts, reply: secretOf(line), once: true });
      continue;
    }
    const parts = line
      .split(/(\{password\}|\{currentPassword\})/)
      .filter((p) => p !== '')
      .map((p) => (p === '{password}' || p === '{currentPassword}' ? secretOf(p) : p.replaceAll('{username}', values.username)));
    commands.push({ parts, answers: [] });
  }
  if (set.configurationMode) await session.configure();
  for (const c of commands) {
    const carriesPassword = c.answers.length > 0 || c.parts.some((p) => typeof p !== 'string');
    await session.command(c.parts, { change: true, answers: c.answers, refusals, ...(carriesPassword && success ? { success } : {}) });
  }
  if (set.configurationMode) await session.leaveConfiguration();
}
