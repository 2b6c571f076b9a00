import { z } from 'zod';
import { accountIdSchema, portSchema, resourceBase, tlsOptions } from '../common.js';
import { MSSQL } from '../sql-dialects.js';
import { defineType, type AccountReference, tcp } from '../definition.js';

/** SQL Server instance names: at most 16 characters, a letter, "_" or "&" first (Microsoft's setup rules). */
const instanceNameSchema = z.string().regex(/^[A-Za-z_&][A-Za-z0-9_$&]{0,15}$/, 'must be a SQL Server instance name (at most 16 letters, digits, "_", "$" or "&")');

const authenticationSchema = z.discriminatedUnion('mode', [
  /** SQL Server authentication. Unset admin: each login changes its own password (with OLD_PASSWORD). */
  z.object({ mode: z.literal('sql'), adminAccount: accountIdSchema.optional() }).strict(),
  /** Windows authentication (NTLM) as a domain account with ALTER ANY LOGIN; the account belongs to a windows-domain resource. */
  z.object({ mode: z.literal('windows'), adminAccount: accountIdSchema }).strict(),
]);

export const mssqlSchema = z
  .object({
    ...resourceBase,
    ...tlsOptions,
    /** TLS from the first packet on (tedious's `encrypt`), the certificate checked; on unless set off. */
    ssl: z.boolean().default(true),
    type: z.literal('mssql'),
    /** A named instance, whose port the SQL Server Browser service (UDP 1434) tells. Give it or `port`, not both. */
    instanceName: instanceNameSchema.optional(),
    /** Unset and no instance name: 1433. */
    port: portSchema.optional(),
    authentication: authenticationSchema.default({ mode: 'sql' }),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.instanceName !== undefined && r.port !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: 'cannot be given with instanceName: a named instance\'s port is found through the SQL Server Browser' });
    }
  })
  .transform((r) => ({ ...r, port: r.instanceName === undefined ? (r.port ?? 1433) : undefined }));

export type MssqlResource = z.output<typeof mssqlSchema>;

function references(r: MssqlResource): AccountReference[] {
  const a = r.authentication;
  if (a.mode === 'windows') return [{ role: 'admin', field: 'authentication.adminAccount', accountId: a.adminAccount, fromResourceTypes: ['windows-domain'] }];
  return a.adminAccount ? [{ role: 'admin', field: 'authentication.adminAccount', accountId: a.adminAccount, fromResourceTypes: [] }] : [];
}

export const mssqlDefinition = defineType({
  type: 'mssql',
  title: 'Microsoft SQL Server',
  schema: mssqlSchema,
  defaultPort: 1433,
  ports: (r) => (r.port === undefined ? { tcp: [], udp: [1434] } : tcp(r.port)),
  defaultPorts: { tcp: [1433], udp: [1434] },
  // SQL logins take 1 to 128 characters (and QUOTENAME, which quotes it server-side, takes 128).
  policy: { length: 32, maxLength: 128 },
  // The name is bound as a parameter and quoted server-side with QUOTENAME, so anything printable is safe.
  username: MSSQL.identifier,
  references,
  adminField: 'authentication.adminAccount',
  onPremises: true,
  verification: 'login',
  implementation: {
    family: 'mssql',
    adapter: () => import('./adapter.js').then((m) => m.createMssqlAdapter),
    testedAgainst: { kind: 'simulator', what: 'a TDS 7.4 simulator written from [MS-TDS] and [MS-NLMP] (TLS in PRELOGIN, LOGIN7, NTLM for Windows logins checked against the account\'s NT hash, sp_executesql, ALTER LOGIN with CHECK_POLICY) and a SQL Server Browser simulator, each checked with FreeTDS tsql; no SQL Server, no domain controller in the NTLM check', using: ['tds'] },
  },
  changedBy: '`ALTER LOGIN` assembled server-side with `QUOTENAME` from bound parameters (admin reset, or self change with `OLD_PASSWORD`)',
  verifiedBy: 'a fresh login as the account',
});
