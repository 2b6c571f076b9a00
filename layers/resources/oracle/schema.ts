import { z } from 'zod';
import { accountIdSchema, portSchema, resourceBase } from '../common.js';
import { defineType, tcp } from '../definition.js';

export const oracleSchema = z
  .object({
    ...resourceBase,
    type: z.literal('oracle'),
    /** The listener's port. */
    port: portSchema.default(1521),
    serviceName: z.string().regex(/^[A-Za-z][A-Za-z0-9_.$#-]{0,127}$/, 'must be a service name: a letter, then letters, digits, "_", ".", "$", "#" or "-"').default('ORCL'),
    /** Require Oracle native network encryption (SQLNET.ENCRYPTION_CLIENT = REQUIRED): the session, and so the password, is encrypted. */
    encrypted: z.boolean().default(false),
    /** A user with ALTER USER. Unset: each account changes its own password (`REPLACE` old). */
    adminAccount: accountIdSchema.optional(),
  })
  .strict();

export type OracleResource = z.output<typeof oracleSchema>;

export const oracleDefinition = defineType({
  type: 'oracle',
  title: 'Oracle Database',
  schema: oracleSchema,
  defaultPort: 1521,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(1521),
  // Passwords are at most 30 bytes on every release before 23ai (which takes 1024); 30 works
  // everywhere and is ~190 bits random. The password is a quoted identifier in ALTER USER,
  // which cannot hold a double quote, so `"` is forbidden.
  policy: { length: 30, maxLength: 30, maxBytes: 30, forbidden: '"' },
  // Unquoted identifiers only (C## for common users): nothing SQL could read as more.
  username: z
    .string()
    .regex(/^(C##|c##)?[A-Za-z][A-Za-z0-9_$#]{0,127}$/, 'must be an Oracle user name: optional "C##", a letter, then letters, digits, "_", "$" or "#" (at most 128)'),
  references: (r) => (r.adminAccount ? [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }] : []),
  onPremises: true,
  verification: 'login',
  implementation: 'not yet',
  changedBy: '`ALTER USER name IDENTIFIED BY "password"` with the name checked as an identifier and the password refused if it holds `"` (admin reset, or `REPLACE` old as the account)',
  verifiedBy: 'a fresh login as the account',
});
