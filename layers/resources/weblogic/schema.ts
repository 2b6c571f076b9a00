import { z } from 'zod';
import { accountIdSchema, portSchema, resourceBase, tlsOptions } from '../common.js';
import { hasControlCharacter } from '../../engine/policy.js';
import { defineType, tcp } from '../definition.js';

/** A WebLogic realm or provider name, placed in a REST path: letters, digits and a few separators only. */
const mbeanName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be letters, digits, "_", "." or "-"');

export const weblogicSchema = z
  .object({
    ...resourceBase,
    ...tlsOptions,
    /**
     * HTTPS, the certificate checked against `caCertificate` (else the trust store); on unless set
     * off. The REST API authenticates every request with HTTP Basic, so without TLS both the
     * admin's password and the new one would cross the network in clear: the adapter refuses
     * `ssl: false`, which stays expressible only so that such a configuration is named, not guessed.
     */
    ssl: z.boolean().default(true),
    type: z.literal('weblogic'),
    /** The Administration Server's port. Unset: 7002 (WebLogic's default SSL listen port), or 7001 (its plain listen port) without `ssl`. */
    port: portSchema.optional(),
    realm: mbeanName.default('myrealm'),
    authenticationProvider: mbeanName.default('DefaultAuthenticator'),
    /** A member of the Admin group (it resets other users' passwords). */
    adminAccount: accountIdSchema,
  })
  .strict()
  .transform((r) => ({ ...r, port: r.port ?? (r.ssl ? 7002 : 7001) }));

export type WeblogicResource = z.output<typeof weblogicSchema>;

export const weblogicDefinition = defineType({
  type: 'weblogic',
  title: 'Oracle WebLogic Server',
  schema: weblogicSchema,
  defaultPort: 7002,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(7001, 7002),
  // The DefaultAuthenticator asks for at least 8 characters and documents no maximum; 128 is a cautious bound.
  policy: { length: 32, minLength: 8, maxLength: 128 },
  // The DefaultAuthenticator refuses , tab < > # | & ? ( ) { } in user names; we refuse control
  // characters too, and ":", which HTTP Basic authentication cannot carry in a user name (RFC 7617
  // section 2: the user-id ends at the first colon), so such a user could never be verified.
  username: z
    .string()
    .min(1)
    .max(256)
    .refine((u) => !hasControlCharacter(u), 'must not hold control characters')
    .regex(/^[^,<>#|&?(){}:]+$/, 'must not hold any of , < > # | & ? ( ) { } :')
    .refine((u) => u.trim() === u, 'must not start or end with a space'),
  references: (r) => [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }],
  onPremises: true,
  verification: 'login',
  implementation: {
    family: 'weblogic',
    adapter: () => import('./adapter.js').then((m) => m.createWeblogicAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: "an HTTPS simulator of the RESTful management API written from Oracle's documentation (Basic auth, X-Requested-By, resetUserPassword/changeUserPassword, DefaultAuthenticator's minimum length); no WebLogic server",
      using: ['https:weblogic'],
    },
  },
  changedBy: "the Administration Server's REST management API over HTTPS: the authentication provider's `resetUserPassword` operation (`changeUserPassword` for the admin itself), the password in the JSON body",
  verifiedBy: 'a fresh HTTP Basic authentication as the user against the Administration Server',
});
