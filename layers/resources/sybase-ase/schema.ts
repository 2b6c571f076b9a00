import { z } from 'zod';
import { accountIdSchema, portSchema, resourceBase, tlsOptions } from '../common.js';
import { defineType, tcp } from '../definition.js';
import { SYBASE_ASE } from '../sql-dialects.js';

export const sybaseAseSchema = z
  .object({
    ...resourceBase,
    ...tlsOptions,
    /**
     * On unless set false: the login record carries the password in clear (the client does not do
     * ASE's password encryption), so only ASE's SSL listener keeps it off the network.
     */
    ssl: z.boolean().default(true),
    type: z.literal('sybase-ase'),
    /** Unset: 2748 with `ssl` (the conventional SSL listener), else 5000. */
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
  defaultPort: 2748,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(2748, 5000),
  // ASE needs at least 6 bytes by default. A login record without password encryption holds 30
  // bytes of password (tds5.ts), as releases before 15.0.2 stored; a resource cannot loosen it.
  policy: { length: 30, minLength: 6, maxLength: 30, maxBytes: 30 },
  username: SYBASE_ASE.identifier,
  references: (r) => (r.adminAccount ? [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }] : []),
  onPremises: true,
  verification: 'login',
  implementation: {
    family: 'sybase-ase',
    adapter: () => import('./adapter.js').then((m) => m.createSybaseAseAdapter),
    testedAgainst: { kind: 'simulator', what: "a TDS 5.0 simulator written from SAP's TDS 5.0 specification (login record, language and RPC requests with parameters, EED messages, sp_password with ASE's rules), checked with FreeTDS tsql at TDS 5.0; the client is this project's own TDS 5.0 client; no SAP ASE", using: ['tds5'] },
  },
  changedBy: '`sp_password` called as an RPC with bound parameters (admin with its own password as the caller password, or self)',
  verifiedBy: 'a fresh login as the account',
});
