import { z } from 'zod';
import { hostSchema, resourceBase, secretIdSchema } from '../common.js';
import { defineType, tcp } from '../definition.js';
import { dnsNameSchema } from '../windows/username.js';

const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const guidSchema = z.string().regex(GUID, 'must be a GUID such as "00000000-0000-0000-0000-000000000000"');

export const entraIdSchema = z
  .object({
    ...resourceBase,
    type: z.literal('entra-id'),
    host: hostSchema.default('graph.microsoft.com'),
    /** The directory (tenant) id, or one of its verified domain names. */
    tenantId: z.union([guidSchema, dnsNameSchema], { error: 'must be a tenant GUID or a domain name such as "contoso.onmicrosoft.com"' }),
    /** The application (client) id of the app registration. */
    clientId: guidSchema,
    /** Secret holding the app registration's client secret. */
    clientSecretSecretId: secretIdSchema,
  })
  .strict();

export type EntraIdResource = z.output<typeof entraIdSchema>;

/** The characters Entra ID takes in the part of a user principal name before "@". */
const UPN = /^[A-Za-z0-9'._!#^~-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export const entraIdDefinition = defineType({
  type: 'entra-id',
  title: 'Microsoft Entra ID',
  schema: entraIdSchema,
  defaultPort: 443,
  ports: () => tcp(443),
  defaultPorts: tcp(443),
  // Entra ID takes 8 to 256 characters, ASCII letters, digits, symbols and space only.
  policy: { length: 32, minLength: 8, maxLength: 256, allowUnicode: false },
  username: z.string().refine((u) => UPN.test(u) || GUID.test(u), 'must be a user principal name (name@domain) or an object id (GUID)'),
  references: () => [],
  secrets: (r) => [{ name: 'clientSecret', field: 'clientSecretSecretId', secretId: r.clientSecretSecretId }],
  onPremises: false,
  verification: 'none',
  implementation: 'not yet',
  changedBy: "Microsoft Graph `PATCH /users/{id}` with `passwordProfile`, on the application's own token (client credentials)",
  verifiedBy: "Microsoft Graph: the user's `lastPasswordChangeDateTime` is after the change (no sign-in is attempted)",
});
