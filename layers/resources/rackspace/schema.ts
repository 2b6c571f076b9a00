import { z } from 'zod';
import { accountIdSchema, hostSchema, resourceBase } from '../common.js';
import { defineType, tcp } from '../definition.js';

/** Rackspace Cloud Identity v2.0 endpoints, by region of the account. */
export const RACKSPACE_IDENTITY_URLS = {
  us: 'https://identity.api.rackspacecloud.com/v2.0',
  uk: 'https://lon.identity.api.rackspacecloud.com/v2.0',
} as const;

export const rackspaceSchema = z
  .object({
    ...resourceBase,
    type: z.literal('rackspace'),
    /** Unset: the identity endpoint's host. */
    host: hostSchema.optional(),
    identityEndpoint: z.enum(['us', 'uk']).default('us'),
    /** A user-admin of the cloud account; it authenticates with its password and resets its users'. */
    adminAccount: accountIdSchema,
  })
  .strict()
  .transform((r) => {
    const identityUrl = RACKSPACE_IDENTITY_URLS[r.identityEndpoint];
    return { ...r, identityUrl, host: r.host ?? new URL(identityUrl).hostname };
  });

export type RackspaceResource = z.output<typeof rackspaceSchema>;

export const rackspaceDefinition = defineType({
  type: 'rackspace',
  title: 'Rackspace Cloud',
  schema: rackspaceSchema,
  defaultPort: 443,
  ports: () => tcp(443),
  defaultPorts: tcp(443),
  // Rackspace asks for at least 8 characters with upper, lower and a digit; 100 is a cautious maximum.
  policy: { length: 32, minLength: 8, maxLength: 100, allowUnicode: false },
  username: z.string().regex(/^[A-Za-z][A-Za-z0-9._@-]{0,99}$/, 'must be a Rackspace user name: a letter, then letters, digits, ".", "_", "@" or "-" (at most 100)'),
  references: (r) => [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }],
  onPremises: false,
  verification: 'login',
  implementation: 'not yet',
  changedBy: 'Cloud Identity API v2.0 `POST /users/{id}` with `OS-KSADM:password`, as the admin',
  verifiedBy: 'a fresh token request (`POST /tokens`) with the new password',
});
