import { z } from 'zod';
import { hostSchema, resourceBase, secretIdSchema } from '../common.js';
import { defineType, tcp } from '../definition.js';

export const SALESFORCE_LOGIN_URLS = {
  login: 'https://login.salesforce.com',
  test: 'https://test.salesforce.com',
} as const;

/** An instance or My Domain URL: HTTPS, a host name (and a port), nothing else (no path, query or credentials). */
const instanceUrlSchema = z
  .string()
  .regex(/^https:\/\/[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?\/?$/, 'must be "login", "test", or an HTTPS URL such as "https://example.my.salesforce.com"');

/** A User's record Id: key prefix 005, 15 (case-sensitive) or 18 characters. */
export const SALESFORCE_USER_ID = /^005[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$/;

export const salesforceSchema = z
  .object({
    ...resourceBase,
    type: z.literal('salesforce'),
    /** Unset: the instance's host. */
    host: hostSchema.optional(),
    /** The connected app's consumer key. */
    clientId: z.string().regex(/^[A-Za-z0-9._]{1,256}$/, 'must be a connected app consumer key'),
    /** Secret holding the connected app's consumer secret. */
    clientSecretSecretId: secretIdSchema,
    /**
     * The org's My Domain URL, where Salesforce takes the client-credentials flow's token request;
     * or `login` (production) / `test` (sandboxes), its login hosts, for an org whose token
     * endpoint they serve. No default: the login host, the obvious one, is not where this flow works.
     */
    instance: z.union([z.enum(['login', 'test']), instanceUrlSchema], {
      error: 'must be the org\'s My Domain URL such as "https://example.my.salesforce.com" (the client-credentials flow takes its token request there), or "login" or "test"',
    }),
    /** The REST API version the calls name (`/services/data/vNN.0`); the password resource exists since 24.0. */
    apiVersion: z.string().regex(/^\d{2,3}\.0$/, 'must be an API version such as "62.0"').default('62.0'),
  })
  .strict()
  .transform((r) => {
    const instanceUrl = r.instance === 'login' || r.instance === 'test' ? SALESFORCE_LOGIN_URLS[r.instance] : r.instance.replace(/\/$/, '');
    return { ...r, instanceUrl, host: r.host ?? new URL(instanceUrl).hostname };
  });

export type SalesforceResource = z.output<typeof salesforceSchema>;

export const salesforceDefinition = defineType({
  type: 'salesforce',
  title: 'Salesforce',
  schema: salesforceSchema,
  defaultPort: 443,
  ports: () => tcp(443),
  defaultPorts: tcp(443),
  // Salesforce asks for at least 8 characters by default and documents no maximum we could find; 128 is cautious.
  policy: { length: 32, minLength: 8, maxLength: 128 },
  // Salesforce user names have the form of an e-mail address; a User's record Id is taken as well
  // (no lookup). A user name travels as an escaped SOQL literal, never spliced in as it is.
  username: z.union([z.email().max(80), z.string().regex(SALESFORCE_USER_ID)], { error: 'must be a Salesforce user name (in the form of an e-mail address) or a User Id (005...)' }),
  references: () => [],
  secrets: (r) => [{ name: 'clientSecret', field: 'clientSecretSecretId', secretId: r.clientSecretSecretId }],
  onPremises: false,
  // Resources naming one org spend its API request limit together (and its concurrent-request
  // limit): a few of a run's groups on it at once.
  sharedTarget: { key: (r) => new URL(r.instanceUrl).host.toLowerCase(), groupsAtOnce: 4 },
  // GET …/password tells only whether the password is expired: no proof of which one the user holds.
  verification: 'none',
  implementation: {
    family: 'salesforce',
    adapter: () => import('./adapter.js').then((m) => m.createSalesforceAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: "an HTTPS simulator of an org written from Salesforce's REST and OAuth references (client-credentials grant, Bearer sessions, the SOQL User lookup, the default password policy with history, the API request limit); a real org untested",
      using: ['https:salesforce'],
    },
  },
  changedBy: 'REST API `POST /sobjects/User/{id}/password` with a token from the connected app (client credentials)',
  verifiedBy: "Salesforce's answer to the change (204) only: `GET /sobjects/User/{id}/password` tells whether a password is expired, not which one is set, so it serves the dry run's permission check; no sign-in is attempted",
});
