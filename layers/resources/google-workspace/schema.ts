import { z } from 'zod';
import { hostSchema, portSchema, resourceBase, secretIdSchema } from '../common.js';
import { defineType, tcp } from '../definition.js';

export const googleWorkspaceSchema = z
  .object({
    ...resourceBase,
    type: z.literal('google-workspace'),
    host: hostSchema.default('admin.googleapis.com'),
    port: portSchema.default(443),
    /** The administrator the service account acts as (domain-wide delegation); no password of theirs is used. */
    adminEmail: z.email().max(254),
    /** Secret holding the service account's JSON key file. */
    serviceAccountKeySecretId: secretIdSchema,
    /** Whether Google asks the user for a new password at their next sign-in (`changePasswordAtNextLogin`). */
    changePasswordAtNextLogin: z.boolean().default(false),
  })
  .strict();

export type GoogleWorkspaceResource = z.output<typeof googleWorkspaceSchema>;

export const googleWorkspaceDefinition = defineType({
  type: 'google-workspace',
  title: 'Google Workspace',
  schema: googleWorkspaceSchema,
  defaultPort: 443,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(443),
  // Google takes 8 to 100 ASCII characters.
  policy: { length: 32, allowUnicode: false, maxLength: 100, minLength: 8 },
  // The user's primary e-mail address.
  username: z.email('must be the user\'s primary e-mail address').max(254),
  references: () => [],
  secrets: (r) => [{ name: 'serviceAccountKey', field: 'serviceAccountKeySecretId', secretId: r.serviceAccountKeySecretId }],
  onPremises: false,
  // The Directory API's limits (developers.google.com/workspace/admin/directory/v1/limits): 2,400
  // queries per minute per user (the admin impersonated) per Cloud project by default, and a limit
  // of concurrent requests per Google Workspace account that cannot be raised (429
  // rateLimitExceeded). A group works one account at a time, two calls each (users.get,
  // users.update), so four groups keep four requests in flight and, at 100 ms a call, 40 queries a
  // second: the per-user default. The Workspace is named by the admin's domain (the schema names no
  // customer id); an account whose admins are of two of its domains is not seen as one.
  sharedTarget: { key: (r) => `${r.host.toLowerCase()}:${r.port} ${r.adminEmail.slice(r.adminEmail.lastIndexOf('@') + 1).toLowerCase()}`, groupsAtOnce: 4 },
  verification: 'none',
  implementation: {
    family: 'google-workspace',
    adapter: () => import('./adapter.js').then((m) => m.createGoogleWorkspaceAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: "an HTTPS simulator of Google's OAuth token endpoint (RS256 JWT grant, domain-wide delegation) and the Directory API's users.update (crypt hashes, 8-100 ASCII, its error JSON and quota answers), written from Google's documentation; Google itself untested",
      using: ['https:google-workspace'],
    },
  },
  changedBy: 'Admin SDK Directory API `users.update` with the password hashed client-side (SHA-512 crypt), as the admin through domain-wide delegation',
  verifiedBy: "the Directory API's answer to the update (Google offers no API to test a sign-in)",
});
