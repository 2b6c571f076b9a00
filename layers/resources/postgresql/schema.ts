import { z } from 'zod';
import { accountIdSchema, portSchema, resourceBase, tlsOptions } from '../common.js';
import { POSTGRESQL } from '../sql-dialects.js';
import { defineType, tcp } from '../definition.js';

export const postgresqlSchema = z
  .object({
    ...resourceBase,
    ...tlsOptions,
    type: z.literal('postgresql'),
    port: portSchema.default(5432),
    database: z.string().min(1).max(63).default('postgres'),
    /** A role with CREATEROLE (PostgreSQL 16+: and ADMIN OPTION on the roles) or a superuser. Unset: each account changes its own password. */
    adminAccount: accountIdSchema.optional(),
  })
  .strict();

export type PostgresqlResource = z.output<typeof postgresqlSchema>;

export const postgresqlDefinition = defineType({
  type: 'postgresql',
  title: 'PostgreSQL',
  schema: postgresqlSchema,
  defaultPort: 5432,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(5432),
  // Role passwords have no length limit of note; a NUL cannot be sent.
  policy: { length: 32, maxLength: 1000 },
  username: POSTGRESQL.identifier,
  references: (r) => (r.adminAccount ? [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }] : []),
  onPremises: true,
  verification: 'login',
  implementation: {
    family: 'postgresql',
    adapter: () => import('./adapter.js').then((m) => m.createPostgresqlAdapter),
    testedAgainst: { kind: 'real server', what: 'PostgreSQL 15 (Debian 12) with SSL', using: ['postgresql'] },
  },
  changedBy: '`ALTER ROLE ... PASSWORD` with a SCRAM-SHA-256 verifier computed client-side (admin reset or self change)',
  verifiedBy: 'a fresh login as the role',
});
