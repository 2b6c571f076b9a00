import { z } from 'zod';
import { deviceCommandSetSchema } from './command-set.js';
import { promptSchema } from './fields.js';
import { sshAlgorithmsSchema } from './ssh-algorithms.js';

/** The login's own prompts (over Telnet, and where a device asks again after SSH), with the vendor's defaults. */
export function loginPromptFields(defaults: { username: string; password: string }) {
  return {
    /** The prompt for the account name (not shown where usernameRequired is false). */
    username: promptSchema.default(defaults.username),
    /** The prompt for the login's password. */
    password: promptSchema.default(defaults.password),
  };
}

/** Fields every device and service-processor type has, beyond the CLI transport. */
export const deviceFields = {
  /** Legacy SSH algorithms the device needs (default none); SSH only. */
  sshAlgorithms: sshAlgorithmsSchema.optional(),
  /** The device's own change command, in place of the driver's. */
  commandSet: deviceCommandSetSchema.optional(),
};

type Ctx = z.RefinementCtx;

interface DeviceCommon {
  protocol: 'ssh' | 'telnet';
  hostKeySha256?: string | undefined;
  sshAlgorithms?: unknown;
  commandSet?: { save?: string | undefined; configurationMode: boolean } | undefined;
}

/**
 * The checks every device type shares: SSH-only fields refused over Telnet, and a custom command
 * set's save step and configuration mode only where the type has them.
 */
export function checkDevice(r: DeviceCommon, ctx: Ctx, traits: { title: string; save: boolean; configurationMode: boolean }): void {
  if (r.protocol === 'telnet' && r.sshAlgorithms !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['sshAlgorithms'], message: 'is only used over SSH: Telnet negotiates no algorithms' });
  }
  if (r.protocol === 'telnet' && r.hostKeySha256 !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['hostKeySha256'], message: 'is only used over SSH: Telnet has no host key' });
  }
  if (r.commandSet?.save !== undefined && !traits.save) {
    ctx.addIssue({ code: 'custom', path: ['commandSet', 'save'], message: `is not used on ${traits.title}, which has no separate save step` });
  }
  if (r.commandSet?.configurationMode && !traits.configurationMode) {
    ctx.addIssue({ code: 'custom', path: ['commandSet', 'configurationMode'], message: `must be false on ${traits.title}, which has no configuration mode` });
  }
}

/**
 * Refuses one account in two roles (an enable secret that is also the enable password, say):
 * each role is one password on the device, so one secret cannot hold two. Names both fields.
 */
export function checkDistinctRoles(roles: readonly { field: string; path: (string | number)[]; accountId: string | undefined }[], ctx: Ctx): void {
  const seen = new Map<string, string>();
  for (const role of roles) {
    if (role.accountId === undefined) continue;
    const other = seen.get(role.accountId);
    if (other !== undefined && other !== role.field) {
      ctx.addIssue({ code: 'custom', path: role.path, message: `names ${role.accountId}, which ${other} already names: an account has one role (${other} or ${role.field}), since each is a separate password on the device` });
    } else seen.set(role.accountId, role.field);
  }
}
