import { z } from 'zod';
import { hostSchema, portSchema, resourceBase, secretIdSchema } from '../common.js';
import { defineType, tcp } from '../definition.js';
import { dnsNameSchema } from '../windows/username.js';

const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const guidSchema = z.string().regex(GUID, 'must be a GUID such as "00000000-0000-0000-0000-000000000000"');

/** An HTTPS origin (scheme, host, optional port; no path, query or credentials). */
const httpsOrigin = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return u.protocol === 'https:' && u.username === '' && u.password === '' && (u.pathname === '/' || u.pathname === '') && u.search === '' && u.hash === '' && !v.endsWith('/');
  } catch {
    return false;
  }
}, 'must be an HTTPS origin such as "https://login.microsoftonline.com" (no path, no trailing slash)');

export const entraIdSchema = z
  .object({
    ...resourceBase,
    type: z.literal('entra-id'),
    /** Microsoft Graph's host: graph.microsoft.com, or a national cloud's (graph.microsoft.us, microsoftgraph.chinacloudapi.cn). */
    host: hostSchema.default('graph.microsoft.com'),
    port: portSchema.default(443),
    /** The sign-in authority's origin; the tenant is appended (`<authority>/<tenantId>`). National clouds: https://login.microsoftonline.us, https://login.chinacloudapi.cn. */
    authority: httpsOrigin.default('https://login.microsoftonline.com'),
    /** The scope the application's token is asked for: Graph's `.default` (its application permissions). */
    scope: z.string().regex(/^https:\/\/[^\s/]+\/\.default$/, 'must be a resource\'s ".default" scope such as "https://graph.microsoft.com/.default"').default('https://graph.microsoft.com/.default'),
    /** The directory (tenant) id, or one of its verified domain names. */
    tenantId: z.union([guidSchema, dnsNameSchema], { error: 'must be a tenant GUID or a domain name such as "contoso.onmicrosoft.com"' }),
    /** The application (client) id of the app registration. */
    clientId: guidSchema,
    /** Secret holding the app registration's client secret (its value, not its id). */
    clientSecretSecretId: secretIdSchema.optional(),
    /**
     * Secret holding a certificate credential instead: the PEM private key with the PEM certificate
     * (its SHA-256 thumbprint is computed), or JSON `{"privateKey": PEM, "thumbprintSha256": hex}`.
     */
    clientCertificateSecretId: secretIdSchema.optional(),
    /** Sent with each reset as `passwordProfile.forceChangePasswordNextSignIn`. */
    forceChangePasswordNextSignIn: z.boolean().default(false),
  })
  .strict()
  .superRefine((r, ctx) => {
    if ((r.clientSecretSecretId === undefined) === (r.clientCertificateSecretId === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['clientSecretSecretId'], message: 'name exactly one credential of the application: clientSecretSecretId or clientCertificateSecretId' });
    }
  });

export type EntraIdResource = z.output<typeof entraIdSchema>;

/** The characters Entra ID takes in the part of a user principal name before "@". */
const UPN = /^[A-Za-z0-9'._!#^~-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export const entraIdDefinition = defineType({
  type: 'entra-id',
  title: 'Microsoft Entra ID',
  schema: entraIdSchema,
  defaultPort: 443,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(443),
  // Entra ID takes 8 to 256 characters, ASCII letters, digits, symbols and space only, three of the four classes.
  policy: { length: 32, minLength: 8, maxLength: 256, allowUnicode: false },
  username: z.string().refine((u) => UPN.test(u) || GUID.test(u), 'must be a user principal name (name@domain) or an object id (GUID)'),
  references: () => [],
  secrets: (r) => [
    ...(r.clientSecretSecretId ? [{ name: 'clientSecret', field: 'clientSecretSecretId', secretId: r.clientSecretSecretId }] : []),
    ...(r.clientCertificateSecretId ? [{ name: 'clientCertificate', field: 'clientCertificateSecretId', secretId: r.clientCertificateSecretId }] : []),
  ],
  onPremises: false,
  // Microsoft Graph's identity and access limits (learn.microsoft.com/graph/throttling-limits,
  // "Identity and access service limits") are a tenant's: per application and tenant 3,500 to
  // 8,000 resource units per 10 s by the tenant's size and 3,000 writes per 2 min 30 s (20 a
  // second), and per tenant for all applications 18,000 writes per 5 min. A group works one account
  // at a time, a write among three calls (GET, PATCH, GET read-back), so at 100 ms a call four groups
  // make about 13 writes a second, under the 20. The key is the tenant whatever the application
  // (they share its limits), in its cloud (authority and Graph host); one tenant named by its GUID
  // in one resource and by a domain in another is not seen as one.
  sharedTarget: { key: (r) => `${r.authority.toLowerCase()} ${r.host.toLowerCase()}:${r.port} ${r.tenantId.toLowerCase()}`, groupsAtOnce: 4 },
  verification: 'none',
  implementation: {
    family: 'entra-id',
    adapter: () => import('./adapter.js').then((m) => m.createEntraIdAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: "an HTTPS simulator of Entra's v2.0 token endpoint (client secret and certificate assertions, AADSTS errors) and Graph's users API (roles, password rules, banned list, 429 throttling), written from Microsoft's references; Entra itself untested",
      using: ['https:entra-id'],
    },
  },
  changedBy: "Microsoft Graph `PATCH /users/{id}` with `passwordProfile`, on the application's own token (client credentials through msal-node, client secret or certificate)",
  verifiedBy: "confirmed by the provider: Microsoft Graph's `lastPasswordChangeDateTime` for the user, read back, is newer than before the change (no sign-in is attempted)",
});
