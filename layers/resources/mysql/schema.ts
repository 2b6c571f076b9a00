import { z } from 'zod';
import { accountIdSchema, portSchema, resourceBase, tlsOptions } from '../common.js';
import { MYSQL } from '../sql-dialects.js';
import { defineType, tcp } from '../definition.js';

export const mysqlSchema = z
  .object({
    ...resourceBase,
    ...tlsOptions,
    type: z.literal('mysql'),
    port: portSchema.default(3306),
    /** An account with CREATE USER (to change others) and SELECT on mysql.user (to check they exist). Unset: each account changes its own password. */
    adminAccount: accountIdSchema.optional(),
  })
  .strict();

export type MysqlResource = z.output<typeof mysqlSchema>;

export const mysqlDefinition = defineType({
  type: 'mysql',
  title: 'MySQL / MariaDB',
  schema: mysqlSchema,
  defaultPort: 3306,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(3306),
  policy: { length: 32, maxLength: 256 },
  username: MYSQL.identifier,
  references: (r) => (r.adminAccount ? [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }] : []),
  onPremises: true,
  verification: 'login',
  implementation: {
    family: 'mysql',
    adapter: () => import('./adapter.js').then((m) => m.createMysqlAdapter),
    testedAgainst: { kind: 'real server', what: 'MariaDB 10.11 (Debian 12) with TLS; MySQL 8 statements untested', using: ['mariadb'] },
  },
  changedBy:
    "`ALTER USER … IDENTIFIED BY PASSWORD` / `IDENTIFIED VIA ed25519 USING` / `IDENTIFIED WITH … AS` with the hash the account's plugin stores, computed client-side (admin); `SET PASSWORD = '<hash>'` (MariaDB self) or `ALTER USER CURRENT_USER() … REPLACE` (MySQL self); clear text only for other plugins; on a session whose sql_mode is pinned without NO_BACKSLASH_ESCAPES",
  verifiedBy: 'a fresh login as the account; for an account a login from here cannot reach (limited to another host), attestation by the admin (the stored hash compared)',
});
