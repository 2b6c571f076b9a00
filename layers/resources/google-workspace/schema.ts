import { z } from 'zod';
import { hostSchema, resourceBase, secretIdSchema } from '../common.js';
import { defineType, tcp } from '../definition.js';

export const googleWorkspaceSchema = z
  .object({
    ...resourceBase,
    type: z.literal('google-workspace'),
    host: hostSchema.default('admin.googleapis.com'),
    /** The administrator the service account acts as (domain-wide delegation); no password of theirs is used. */
    adminEmail: z.email().max(254),
    /** Secret holding the service account's JSON key file. */
    serviceAccountKeySecretId: secretIdSchema,
  })
  .strict();

export type GoogleWorkspaceResource = z.output<typeof googleWorkspaceSchema>;

export const googleWorkspaceDefinition = defineType({
  type: 'google-workspace',
  title: 'Google Workspace',
  schema: googleWorkspaceSchema,
  defaultPort: 443,
  ports: () => tcp(443),
  defaultPorts: tcp(443),
  // Google takes 8 to 100 ASCII characters.
  policy: { length: 32, allowUnicode: false, maxLength: 100, minLength: 8 },
  // The user's primary e-mail address.
  username: z.email('must be the user\'s primary e-mail address').max(254),
  references: () => [],
  secrets: (r) => [{ name: 'serviceAccountKey', field: 'serviceAccountKeySecretId', secretId: r.serviceAccountKeySecretId }],
  onPremises: false,
  verification: 'none',
  implementation: 'not yet',
  changedBy: 'Admin SDK Directory API `users.update` with the password hashed client-side (SHA-512 crypt), as the admin through domain-wide delegation',
  verifiedBy: "the Directory API's answer to the update (Google offers no API to test a sign-in)",
});
