import { z } from 'zod';
import { hostSchema, resourceBase, secretIdSchema } from '../common.js';
import { defineType, tcp } from '../definition.js';

export const SALESFORCE_LOGIN_URLS = {
  login: 'https://login.salesforce.com',
  test: 'https://test.salesforce.com',
} as const;

/** An instance or My Domain URL: HTTPS, a host name, nothing else (no path, query or credentials). */
const instanceUrlSchema = z
  .string()
  .regex(/^https:\/\/[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\/?$/, 'must be "login", "test", or an HTTPS URL such as "https://example.my.salesforce.com"');

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
    /** `login` (production), `test` (sandboxes), or the org's My Domain URL (which the client-credentials flow requires). */
    instance: z.union([z.enum(['login', 'test']), instanceUrlSchema], {
      error: 'must be "login", "test", or an HTTPS URL such as "https://example.my.salesforce.com"',
    }).default('login'),
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
  // Salesforce user names have the form of an e-mail address.
  username: z.email('must be a Salesforce user name (in the form of an e-mail address)').max(80),
  references: () => [],
  secrets: (r) => [{ name: 'clientSecret', field: 'clientSecretSecretId', secretId: r.clientSecretSecretId }],
  onPremises: false,
  verification: 'none',
  implementation: 'not yet',
  changedBy: 'REST API `POST /sobjects/User/{id}/password` with a token from the connected app (client credentials)',
  verifiedBy: 'REST API `GET /sobjects/User/{id}/password` shows the password set and not expired (no sign-in is attempted)',
});
