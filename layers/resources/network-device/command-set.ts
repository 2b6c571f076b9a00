import { z } from 'zod';
import { hasControlCharacter } from '../../engine/policy.js';
import { promptSchema } from './fields.js';

/** The placeholders a custom command line may hold; any other `{word}` is refused. */
export const COMMAND_SET_PLACEHOLDERS = ['{username}', '{password}', '{currentPassword}'] as const;

/** A line that is a password alone: typed at one of `passwordPrompts`, where the device echoes nothing. */
export function isPasswordAnswer(line: string): boolean {
  return line === '{password}' || line === '{currentPassword}';
}

const line = z
  .string()
  .min(1)
  .max(512)
  .refine((s) => !hasControlCharacter(s), 'must be one line without control characters')
  .superRefine((s, ctx) => {
    for (const m of s.matchAll(/\{[^{}]*\}/g)) {
      if (!(COMMAND_SET_PLACEHOLDERS as readonly string[]).includes(m[0])) {
        ctx.addIssue({ code: 'custom', message: `holds the unknown placeholder ${m[0]}; known: ${COMMAND_SET_PLACEHOLDERS.join(', ')}` });
      }
    }
  });

/**
 * A device's own change command, in place of the driver's built-in one ("any device that can be
 * reached via CLI and accepts commands for managing passwords"). Checked when the resource is
 * saved:
 * - `change` is sent line by line, each after the prompt before it. `{username}` is the account's
 *   (validated) user name. A line that is `{password}` or `{currentPassword}` alone answers one
 *   of `passwordPrompts`, where the device does not echo it. A password inside a longer line is on
 *   the device's command line, which echoes it (rpr redacts the echo, but the device may log it):
 *   refused unless `passwordOnCommandLine` says the vendor's syntax requires it
 *   (`username {username} secret {password}` on IOS).
 * - `configurationMode`: the lines run in configuration mode, entered first and always left.
 * - `save`: the command that saves the configuration, run after a change known to have succeeded
 *   when the resource's `copyToStartup` is on (only on types that have a save step).
 * - `success` and `refusals`: regular expressions over the device's answer to the change. A
 *   refusal is "unchanged" with the device's (redacted) words; anything that is neither, or not
 *   the success when `success` is given, is "outcome unknown" and reconciled.
 */
export const deviceCommandSetSchema = z
  .object({
    change: z.array(line).min(1).max(16),
    passwordPrompts: z.array(promptSchema).min(1).max(8).default(['[Pp]assword[^:\\r\\n]*: ?$']),
    passwordOnCommandLine: z.boolean().default(false),
    configurationMode: z.boolean().default(false),
    save: line.optional(),
    success: z.array(promptSchema).max(16).optional(),
    refusals: z.array(promptSchema).min(1).max(32),
  })
  .strict()
  .superRefine((c, ctx) => {
    const all = c.change.join('\n');
    if (!all.includes('{password}')) ctx.addIssue({ code: 'custom', path: ['change'], message: 'must send the new password ({password}) somewhere' });
    c.change.forEach((l, i) => {
      if (!isPasswordAnswer(l) && /\{(password|currentPassword)\}/.test(l) && !c.passwordOnCommandLine) {
        ctx.addIssue({
          code: 'custom',
          path: ['change', i],
          message: 'puts a password on the command line, which the device echoes: type it alone on its own line at a password prompt, or set passwordOnCommandLine where the vendor syntax requires it',
        });
      }
    });
    if (c.save !== undefined && /\{(password|currentPassword)\}/.test(c.save)) ctx.addIssue({ code: 'custom', path: ['save'], message: 'must not hold a password' });
  });

export type DeviceCommandSet = z.output<typeof deviceCommandSetSchema>;
