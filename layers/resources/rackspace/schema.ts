import { z } from 'zod';
import { hostSchema, portSchema, resourceBase, secretIdSchema } from '../common.js';
import { defineType, tcp } from '../definition.js';

/** Rackspace Cloud Identity v2.0 endpoints, by region of the account. */
export const RACKSPACE_IDENTITY_URLS = {
  us: 'https://identity.api.rackspacecloud.com/v2.0',
  uk: 'https://lon.identity.api.rackspacecloud.com/v2.0',
} as const;

/**
 * A Rackspace user name: "Start with an alpha character", upper and lower case, and `- @ _`
 * (Cloud Identity v2.0 "Add user"); "." too, as e-mail-like names have it.
 */
export const rackspaceUsernameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9._@-]{0,99}$/, 'must be a Rackspace user name: a letter, then letters, digits, ".", "_", "@" or "-" (at most 100)');

/** The special characters "Add user" lists for `OS-KSADM:password`; space is allowed too, but not first. */
export const RACKSPACE_PASSWORD_SYMBOLS = '~!@#%&*_-|\\(){}[]:;"\'<>,.?/';

export const rackspaceSchema = z
  .object({
    ...resourceBase,
    type: z.literal('rackspace'),
    /** Unset: the identity endpoint's host. Set: that host instead (a proxy, or a test's simulator). */
    host: hostSchema.optional(),
    /** Unset: 443. */
    port: portSchema.optional(),
    identityEndpoint: z.enum(['us', 'uk']).default('us'),
    /** The user name of a user-admin (or user-manage) of the cloud account: it resets its users' passwords. */
    adminUsername: rackspaceUsernameSchema,
    /** Secret holding the admin's API key (or its password, with `adminCredential: password`). */
    adminSecretId: secretIdSchema,
    /** What the admin's secret holds: `apiKey` (RAX-KSKEY:apiKeyCredentials, Rackspace's advice for automation) or `password`. */
    adminCredential: z.enum(['apiKey', 'password']).default('apiKey'),
  })
  .strict()
  .transform((r) => {
    const standard = new URL(RACKSPACE_IDENTITY_URLS[r.identityEndpoint]);
    const host = r.host ?? standard.hostname;
    const port = r.port === undefined || r.port === 443 ? '' : `:${r.port}`;
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return { ...r, host, identityUrl: `https://${bracketed}${port}/v2.0` };
  });

export type RackspaceResource = z.output<typeof rackspaceSchema>;

export const rackspaceDefinition = defineType({
  type: 'rackspace',
  title: 'Rackspace Cloud',
  schema: rackspaceSchema,
  defaultPort: 443,
  ports: (r) => tcp(r.port ?? 443),
  defaultPorts: tcp(443),
  // Cloud Identity v2.0 "Update user": at least 8 characters with an upper-case letter, a lower-case
  // letter and a digit; "Add user": no maximum, the listed special characters, space but not first.
  // 100 is a cautious maximum; the characters the documentation does not list are never used.
  policy: {
    length: 32,
    minLength: 8,
    maxLength: 100,
    minLower: 1,
    minUpper: 1,
    minDigits: 1,
    symbols: RACKSPACE_PASSWORD_SYMBOLS,
    forbidden: '$^+=`',
    forbiddenFirst: ' ',
    allowUnicode: false,
  },
  username: rackspaceUsernameSchema,
  references: () => [],
  secrets: (r) => [{ name: 'admin', field: 'adminSecretId', secretId: r.adminSecretId }],
  onPremises: false,
  // Identity's rate limits count by user name and token (general-api-info/limits.rst): resources
  // signing in as one admin at one endpoint spend one budget, two groups at a time.
  sharedTarget: { key: (r) => `${r.identityUrl} ${r.adminUsername.toLowerCase()}`, groupsAtOnce: 2 },
  verification: 'login',
  implementation: {
    family: 'rackspace',
    adapter: () => import('./adapter.js').then((m) => m.createRackspaceAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: "an HTTPS simulator of Cloud Identity v2.0 written from Rackspace's API reference (tokens by password or API key, users by name, update user, its password rules, 413 overLimit); Rackspace itself untested",
      using: ['https:rackspace'],
    },
  },
  changedBy: 'Cloud Identity API v2.0 `POST /users/{id}` with `OS-KSADM:password`, on the admin\'s token (API key or password)',
  verifiedBy: 'a fresh token request (`POST /tokens`) as the user with the new password',
});
