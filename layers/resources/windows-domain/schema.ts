import { z } from 'zod';
import { accountIdSchema, portSchema, resourceBase, caCertificateSchema } from '../common.js';
import { defineType, directoryServer, tcp } from '../definition.js';
import { dnProblem, dnSchema } from '../ldap/dn.js';
import { dnsNameSchema, domainUsername } from '../windows/username.js';

export const windowsDomainSchema = z
  .object({
    ...resourceBase,
    type: z.literal('windows-domain'),
    /** The domain's DNS name ("corp.example.com"); `host` is the domain controller to talk to. */
    domain: dnsNameSchema,
    /**
     * `ldaps` (TLS from the start, port 636), `starttls` (389, upgraded before binding), or `plain` (389).
     * Active Directory refuses to change `unicodePwd` on a connection that is neither TLS nor SASL-sealed,
     * so `plain` is taken only with `plainAcknowledged: true`, for a connection sealed by other means.
     */
    mode: z.enum(['ldaps', 'starttls', 'plain']).default('ldaps'),
    plainAcknowledged: z.boolean().default(false),
    /** Unset: 636 for ldaps, 389 otherwise. */
    port: portSchema.optional(),
    caCertificate: caCertificateSchema.optional(),
    /** Where accounts are searched; unset: the domain's default naming context (from the rootDSE). */
    baseDn: dnSchema.optional(),
    /** An account with the "Reset password" right on the accounts: of this or another windows-domain resource. Unset: each account changes its own password. */
    adminAccount: accountIdSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.mode === 'plain' && !r.plainAcknowledged) {
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message:
          'is "plain", but Active Directory refuses password changes without TLS; use "ldaps" or "starttls", or set plainAcknowledged: true if the connection is sealed by other means',
      });
    }
    if (r.mode !== 'plain' && r.plainAcknowledged) ctx.addIssue({ code: 'custom', path: ['plainAcknowledged'], message: 'is only meaningful with mode "plain"' });
    if (r.mode === 'plain' && r.caCertificate) ctx.addIssue({ code: 'custom', path: ['caCertificate'], message: 'is not used with mode "plain"' });
  })
  .transform((r) => ({ ...r, port: r.port ?? (r.mode === 'ldaps' ? 636 : 389) }));

export type WindowsDomainResource = z.output<typeof windowsDomainSchema>;

/** Every Active Directory object's DN ends in the domain's "DC=" components. */
function isDomainDn(u: string): boolean {
  return dnProblem(u) === undefined && /(^|,)DC=[^,]+$/i.test(u);
}

/**
 * A domain account: its sAMAccountName ("jdoe"), its user principal name ("jdoe@corp.example.com")
 * or its distinguished name ("CN=John Doe,OU=Staff,DC=corp,DC=example,DC=com"). The adapter finds
 * the DN; a DN is matched as a value, never spliced into a filter.
 */
export const domainAccountName = z.string().refine(
  (u) => (u.includes('=') ? isDomainDn(u) : domainUsername.safeParse(u).success),
  'must be a sAMAccountName ("jdoe": at most 20 characters, none of " / \\ [ ] : ; | = , + * ? < > @ ( ) $ \' ` % & ! except a trailing $), ' +
    'a user principal name ("jdoe@corp.example.com") or a distinguished name in RFC 4514 form ending in the domain\'s DC= components ("CN=John Doe,OU=Staff,DC=corp,DC=example,DC=com")',
);

export const windowsDomainDefinition = defineType({
  type: 'windows-domain',
  title: 'Microsoft Active Directory',
  schema: windowsDomainSchema,
  defaultPort: 636,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(389, 636),
  // unicodePwd holds at most 256 characters (UTF-16); every character is taken.
  policy: { length: 24, maxLength: 256 },
  username: domainAccountName,
  references: (r) => (r.adminAccount ? [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: ['windows-domain'] }] : []),
  // Its accounts logging in elsewhere (a Unix login, a Windows admin) are qualified with the domain.
  realm: (r) => r.domain,
  onPremises: true,
  sharedTarget: directoryServer,
  verification: 'login',
  implementation: {
    family: 'windows-domain',
    adapter: () => import('./adapter.js').then((m) => m.createWindowsDomainAdapter),
    testedAgainst: {
      kind: 'real server',
      what: 'Samba 4.17 AD DC (Debian 12) over LDAPS and StartTLS, with fine-grained password policies and a lockout threshold of 5; no Windows Server DC',
      using: ['samba'],
    },
  },
  changedBy: 'LDAP modify of `unicodePwd` over TLS: a replace as the admin (reset), or delete-old/add-new as the account (change)',
  verifiedBy: 'a fresh LDAP simple bind as the account',
});
