import { z } from 'zod';
import { InvalidConfigurationError } from '../../engine/errors.js';
import { accountIdSchema, cliTransport, resourceBase } from '../common.js';
import { defineType, tcp } from '../definition.js';
import { checkDevice, checkDistinctRoles, deviceFields, loginPromptFields } from '../network-device/device.js';
import { cliPort, DEVICE_CLI_FORBIDDEN, deviceUsername, promptSchema } from '../network-device/fields.js';

export const hpProcurvePromptsSchema = z
  .object({
    ...loginPromptFields({ username: 'Username: ?$', password: 'Password: ?$' }),
    /** Manager (privileged) mode, e.g. "ProCurve Switch 2824# ". */
    manager: promptSchema.default('# ?$'),
    configuration: promptSchema.default('\\(config\\)# ?$'),
  })
  .strict();

/**
 * A ProCurve switch has two local passwords, each with an optional user name (HPE ArubaOS-Switch
 * Access Security Guide, "Configuring local password security"): the manager's and the
 * operator's, both set by `password manager|operator user-name NAME` in configuration mode, the
 * new password typed at its "New password" / "Please retype" prompts. "Usernames are optional":
 * with none set (usernameRequired false) the switch asks for the password alone, and the
 * command is `password manager|operator` without `user-name`.
 */
export const hpProcurveSchema = z
  .object({
    ...resourceBase,
    ...cliTransport,
    ...deviceFields,
    type: z.literal('hp-procurve'),
    /** The manager account: it logs in and sets the manager and operator passwords. */
    managerAccount: accountIdSchema,
    /** The operator account (read-only access), when the resource resets it too. */
    operatorAccount: accountIdSchema.optional(),
    /** Whether the switch asks for an account name before the password (user names set), or only a password. */
    usernameRequired: z.boolean().default(true),
    prompts: hpProcurvePromptsSchema.prefault({}),
    /** `write memory` after the change, so it survives a reboot. */
    copyToStartup: z.boolean().default(true),
  })
  .strict()
  .superRefine((r, ctx) => {
    checkDevice(r, ctx, { title: 'HP ProCurve', save: true, configurationMode: true });
    checkDistinctRoles(
      [
        { field: 'managerAccount', path: ['managerAccount'], accountId: r.managerAccount },
        { field: 'operatorAccount', path: ['operatorAccount'], accountId: r.operatorAccount },
      ],
      ctx,
    );
    if (!r.usernameRequired && r.protocol === 'ssh') {
      ctx.addIssue({ code: 'custom', path: ['usernameRequired'], message: 'must be true with protocol ssh: we found no ProCurve documentation of an SSH login with a password and no user name' });
    }
  })
  .transform((r) => ({ ...r, port: cliPort(r) }));

export type HpProcurveResource = z.output<typeof hpProcurveSchema>;

/** Which of the switch's two passwords an account is: `password manager` or `password operator`. */
export type ProcurveAccountKind = 'manager' | 'operator';

/** The account's kind; an account that is neither the manager nor the operator is refused, naming the field. */
export function procurveAccountKind(resource: HpProcurveResource, accountId: string): ProcurveAccountKind {
  if (resource.managerAccount === accountId) return 'manager';
  if (resource.operatorAccount === accountId) return 'operator';
  throw new InvalidConfigurationError('accountId', `${accountId} is neither managerAccount nor operatorAccount of ${resource.id}: a ProCurve switch has those two local passwords only`);
}

/** The user name the login types: the manager's name when usernameRequired, else none (the password alone). */
export function procurveLoginUsername(resource: HpProcurveResource, username: string): string | undefined {
  return resource.usernameRequired ? username : undefined;
}

export const hpProcurveDefinition = defineType({
  type: 'hp-procurve',
  title: 'HP ProCurve / Aruba switch',
  schema: hpProcurveSchema,
  defaultPort: 22,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(22, 23),
  // Older ProCurve firmware takes 16 characters (K.15 and ArubaOS-Switch take up to 64 "with no
  // spaces"; a resource cannot loosen the limit, so the limit is the lowest any release in
  // service takes). Typed at the switch's prompts, so no first character is special.
  policy: { length: 16, maxLength: 16, allowUnicode: false, forbidden: DEVICE_CLI_FORBIDDEN },
  // The account's name in the store; the switch's user name when usernameRequired, else not typed.
  username: deviceUsername(64),
  references: (r) => [{ role: 'manager', field: 'managerAccount', accountId: r.managerAccount, fromResourceTypes: [] }],
  onPremises: true,
  verification: 'login',
  implementation: {
    family: 'device',
    adapter: () => import('./adapter.js').then((m) => m.createProcurveAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: 'a ProCurve CLI simulator (test/simulators/device/hp-procurve.ts) written from the HP ProCurve Management and Configuration Guide and the Access Security Guide: manager and operator passwords with and without user names, the banner and "Press any key to continue", paging, `write memory`, logout\'s questions, over SSH and Telnet; it does not cover RADIUS/TACACS+ logins, port security or the web and SNMP interfaces',
      using: ['device:hp-procurve'],
    },
  },
  changedBy: '`password manager|operator [user-name NAME]` in configuration mode, the new password typed at its two prompts; `write memory` when copyToStartup; logout never saves',
  verifiedBy: 'a fresh SSH or Telnet login as the account',
});
