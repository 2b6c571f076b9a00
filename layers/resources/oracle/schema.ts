import { z } from 'zod';
import { accountIdSchema, portSchema, resourceBase } from '../common.js';
import { defineType, tcp } from '../definition.js';
import { ORACLE } from '../sql-dialects.js';

const sidSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_$#]{0,63}$/, 'must be an Oracle SID: a letter, then letters, digits, "_", "$" or "#"');

export const oracleSchema = z
  .object({
    ...resourceBase,
    type: z.literal('oracle'),
    /** The listener's port. Unset: 1521, or 2484 (Oracle's registered TCPS port) with `ssl`. */
    port: portSchema.optional(),
    /** The database service; ORCL unless `sid` is given instead. */
    serviceName: z.string().regex(/^[A-Za-z][A-Za-z0-9_.$#-]{0,127}$/, 'must be a service name: a letter, then letters, digits, "_", ".", "$", "#" or "-"').optional(),
    /** An instance's SID, for listeners that know no service name for it. Give it or `serviceName`, not both. */
    sid: sidSchema.optional(),
    /** TCPS: TLS to the listener, its certificate checked against the system's trust store and its name against `host`. */
    ssl: z.boolean().default(false),
    /**
     * Oracle native network encryption (the seed's "encrypted mode"). Refused when true: the
     * functions run node-oracledb in Thin mode, which offers the server no encryption algorithm
     * (its ANO negotiation sends none), so a server that requires it refuses the connection, and
     * one that does not would carry the session in clear. Native encryption needs the Thick
     * driver (Oracle Instant Client), which a Lambda function does not carry; TCPS (`ssl`) is the way.
     */
    encrypted: z.boolean().default(false),
    /** A user with the ALTER USER system privilege. Unset: each account changes its own password. */
    adminAccount: accountIdSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.encrypted) {
      ctx.addIssue({ code: 'custom', path: ['encrypted'], message: "Oracle native network encryption needs node-oracledb's Thick mode (Oracle Instant Client), which the functions do not carry; their Thin mode offers no encryption algorithm. Use TLS instead: set ssl (TCPS) and enable TCPS on the listener" });
    }
    if (r.sid !== undefined && r.serviceName !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['sid'], message: 'cannot be given with serviceName: a connection names a service or an instance, not both' });
    }
  })
  .transform((r) => ({ ...r, port: r.port ?? (r.ssl ? 2484 : 1521), ...(r.sid === undefined ? { serviceName: r.serviceName ?? 'ORCL' } : {}) }));

export type OracleResource = z.output<typeof oracleSchema>;

export const oracleDefinition = defineType({
  type: 'oracle',
  title: 'Oracle Database',
  schema: oracleSchema,
  defaultPort: 1521,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(1521, 2484),
  // Passwords are at most 30 bytes on every release before 23ai (which takes 1024); 30 works
  // everywhere and is ~190 bits random. The password is a quoted identifier in ALTER USER,
  // which cannot hold a double quote, so `"` is forbidden.
  policy: { length: 30, maxLength: 30, maxBytes: 30, forbidden: '"' },
  username: ORACLE.identifier,
  references: (r) => (r.adminAccount ? [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }] : []),
  onPremises: true,
  verification: 'login',
  implementation: {
    family: 'oracle',
    adapter: () => import('./adapter.js').then((m) => m.createOracleAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: "an Oracle Net simulator (TNS, TTC, O5LOGON with the 12c verifier, ALTER USER and the profile's refusals) written from node-oracledb's Thin-mode code and Oracle's documentation, which node-oracledb and python-oracledb (Thin mode, a second implementation) log in to; the driver's calls also checked with a recording fake, and TCPS only against listeners (the simulator has no TLS); no Oracle Database",
      using: ['tns'],
    },
  },
  changedBy: 'node-oracledb\'s own password change (Thin mode, O5LOGON: the new password encrypted with the session key) for a self change and the admin\'s own; `ALTER USER "NAME" IDENTIFIED BY "password"` by the admin for others, the name checked as an identifier and a password holding `"` or NUL refused before sending',
  verifiedBy: 'a fresh login as the account',
});
