import { z } from 'zod';
import { accountIdSchema, portSchema, resourceBase, tlsOptions } from '../common.js';
import { defineType, tcp } from '../definition.js';

export const sybaseAseSchema = z
  .object({
    ...resourceBase,
    ...tlsOptions,
    type: z.literal('sybase-ase'),
    /** Unset: 5000, or 2748 with `ssl` (the conventional SSL listener beside the plain one). */
    port: portSchema.optional(),
    /** A login with sso_role. Unset: each login changes its own password. */
    adminAccount: accountIdSchema.optional(),
  })
  .strict()
  .transform((r) => ({ ...r, port: r.port ?? (r.ssl ? 2748 : 5000) }));

export type SybaseAseResource = z.output<typeof sybaseAseSchema>;

export const sybaseAseDefinition = defineType({
  type: 'sybase-ase',
  title: 'SAP ASE (Sybase)',
  schema: sybaseAseSchema,
  defaultPort: 5000,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(2748, 5000),
  // ASE needs at least 6 bytes by default. Releases before 15.0.2 stop at 30 bytes; we keep
  // 30 so one policy holds on every release still in service (a resource cannot loosen it).
  policy: { length: 30, minLength: 6, maxLength: 30, maxBytes: 30 },
  // ASE identifiers: a letter, "_", "@" or "#" first, at most 30 characters (the portable limit).
  username: z.string().regex(/^[A-Za-z_][A-Za-z0-9_@#$]{0,29}$/, 'must be an ASE login name: a letter or "_", then letters, digits, "_", "@", "#" or "$" (at most 30)'),
  references: (r) => (r.adminAccount ? [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }] : []),
  onPremises: true,
  verification: 'login',
  implementation: 'not yet',
  changedBy: '`sp_password` called as an RPC with bound parameters (admin with its own password as the caller password, or self)',
  verifiedBy: 'a fresh login as the account',
});
