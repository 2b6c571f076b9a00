import { z } from 'zod';
import { accountIdSchema, cliTransport, resourceBase } from '../common.js';
import { defineType, tcp } from '../definition.js';
import { checkDevice, deviceFields, loginPromptFields } from '../network-device/device.js';
import { cliPort, DEVICE_CLI_FORBIDDEN, deviceUsername, promptSchema } from '../network-device/fields.js';

/**
 * ScreenOS (Juniper ScreenOS CLI Reference Guide, `admin`): the root admin's password is set by
 * `set admin password` (its name by `set admin name`), every other admin's by
 * `set admin user NAME password "…" privilege all|read-only`; `save` writes the configuration.
 * The console always asks for the admin name ("login:") before the password.
 */
export const juniperNetscreenSchema = z
  .object({
    ...resourceBase,
    ...cliTransport,
    ...deviceFields,
    type: z.literal('juniper-netscreen'),
    /** The admin that logs in and makes the changes: the root admin or an admin with "all" privileges. */
    adminAccount: accountIdSchema,
    /** The root admin (`set admin password`), when the resource resets it; every other account is an admin user. */
    rootAdminAccount: accountIdSchema.optional(),
    /** Whether the device asks for an account name before the password: always, on ScreenOS. */
    usernameRequired: z.boolean().default(true),
    prompts: z.object(loginPromptFields({ username: 'login: ?$', password: 'password: ?$' })).strict().prefault({}),
    /** The ScreenOS prompt, e.g. "ssg5-> ". */
    adminPrompt: promptSchema.default('-> ?$'),
    /** `save` after the change, so it survives a reboot. */
    copyToStartup: z.boolean().default(true),
  })
  .strict()
  .superRefine((r, ctx) => {
    checkDevice(r, ctx, { title: 'ScreenOS', save: true, configurationMode: false });
    if (!r.usernameRequired) ctx.addIssue({ code: 'custom', path: ['usernameRequired'], message: 'must be true: ScreenOS always asks for the admin name ("login:") before the password' });
  })
  .transform((r) => ({ ...r, port: cliPort(r) }));

export type JuniperNetscreenResource = z.output<typeof juniperNetscreenSchema>;

/** `root-admin`: `set admin password`; `admin-user`: `set admin user NAME password "…" privilege …`. */
export type ScreenosAccountKind = 'root-admin' | 'admin-user';

export function screenosAccountKind(resource: JuniperNetscreenResource, accountId: string): ScreenosAccountKind {
  return resource.rootAdminAccount === accountId ? 'root-admin' : 'admin-user';
}

export const juniperNetscreenDefinition = defineType({
  type: 'juniper-netscreen',
  title: 'Juniper NetScreen (ScreenOS)',
  schema: juniperNetscreenSchema,
  defaultPort: 22,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(22, 23),
  // ScreenOS admin passwords take at most 31 characters; the password is a command argument in
  // double quotes, so `"` is refused along with `?` and whitespace.
  policy: { length: 24, maxLength: 31, allowUnicode: false, forbidden: `${DEVICE_CLI_FORBIDDEN}"` },
  username: deviceUsername(31),
  references: (r) => [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }],
  onPremises: true,
  verification: 'login',
  implementation: {
    family: 'device',
    adapter: () => import('./adapter.js').then((m) => m.createScreenosAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: 'a ScreenOS CLI simulator (test/simulators/device/juniper-netscreen.ts) written from the ScreenOS CLI Reference Guide and Concepts & Examples (Administration): the root admin and read-write/read-only admins with ScreenOS password hashes, the `->` prompt, paging, `save`, exit\'s save question and the factory license prompt, over SSH and Telnet; it does not cover RADIUS/LDAP admins, VSYS admins or the WebUI',
      using: ['device:juniper-netscreen'],
    },
  },
  changedBy: '`set admin user NAME password "..." privilege …` keeping the privilege `get admin user` shows (`set admin password` for the root admin); `save` when copyToStartup; exit never saves',
  verifiedBy: 'a fresh SSH or Telnet login as the account',
});
