import { z } from 'zod';
import { accountIdSchema, portSchema, resourceBase, tlsOptions } from '../common.js';
import { defineType, directoryServer, tcp } from '../definition.js';
import { dnSchema } from './dn.js';

export const LDAP_SERVER_TYPES = ['openldap', 'oracle-internet-directory', 'novell-edirectory', 'entra-id'] as const;

/**
 * How a password is changed. `auto`: the Password Modify extended operation (RFC 3062) when the server's
 * root DSE lists it, else a modify of `userPassword` (`unicodePwd` on Entra ID, always).
 */
export const LDAP_PASSWORD_CHANGES = ['auto', 'extended-operation', 'replace'] as const;

export const ldapSchema = z
  .object({
    ...resourceBase,
    ...tlsOptions,
    type: z.literal('ldap'),
    /** `entra-id` is Microsoft Entra Domain Services' secure LDAP, which is served over LDAPS only. */
    serverType: z.enum(LDAP_SERVER_TYPES),
    /** Upgrade a plain connection with StartTLS before binding (port 389); the alternative to `ssl` (LDAPS). */
    starttls: z.boolean().default(false),
    /** Unset: 636 with `ssl`, else 389. */
    port: portSchema.optional(),
    /** Where accounts live; only used to check that account DNs fall under it. */
    baseDn: dnSchema.optional(),
    /** The admin bind: an account of this resource, so its user name is a DN. Unset: each account changes its own password. */
    adminAccount: accountIdSchema.optional(),
    /** Force the method (see LDAP_PASSWORD_CHANGES); `replace` on OpenLDAP writes a salted hash ({SSHA}), never the clear text. */
    passwordChange: z.enum(LDAP_PASSWORD_CHANGES).default('auto'),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.ssl && r.starttls) ctx.addIssue({ code: 'custom', path: ['starttls'], message: 'cannot be combined with ssl: choose LDAPS (ssl) or StartTLS' });
    if (r.serverType === 'entra-id' && !r.ssl) ctx.addIssue({ code: 'custom', path: ['ssl'], message: 'must be true for Entra ID, which serves LDAP over SSL (LDAPS) only' });
    if (r.serverType === 'entra-id' && r.passwordChange === 'extended-operation') {
      ctx.addIssue({ code: 'custom', path: ['passwordChange'], message: 'Entra ID has no Password Modify extended operation: passwords are changed through unicodePwd' });
    }
    if (r.caCertificate && !r.ssl && !r.starttls) ctx.addIssue({ code: 'custom', path: ['caCertificate'], message: 'is only used with ssl or starttls' });
  })
  .transform((r) => ({ ...r, port: r.port ?? (r.ssl ? 636 : 389) }));

export type LdapResource = z.output<typeof ldapSchema>;

export const ldapDefinition = defineType({
  type: 'ldap',
  title: 'LDAP directory (OpenLDAP, Oracle Internet Directory, Novell eDirectory, Microsoft Entra ID)',
  schema: ldapSchema,
  defaultPort: 389,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(389, 636),
  // No server among these takes less than 128 characters (Entra ID: 256); 128 is the common bound.
  policy: { length: 32, maxLength: 128 },
  // Accounts are identified by their DN; it travels as a protocol field, never spliced into a filter.
  username: dnSchema,
  references: (r) => (r.adminAccount ? [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: [] }] : []),
  onPremises: true,
  sharedTarget: directoryServer,
  verification: 'login',
  implementation: {
    family: 'ldap',
    adapter: () => import('./adapter.js').then((m) => m.createLdapAdapter),
    testedAgainst: {
      kind: 'real server',
      what: 'OpenLDAP 2.5 (Debian 12) with ppolicy, LDAPS and StartTLS; the Entra ID method (`unicodePwd`) against Samba 4.17 AD DC; Oracle Internet Directory, eDirectory and Entra ID themselves untested',
      using: ['ldap', 'samba'],
    },
  },
  changedBy:
    "the Password Modify extended operation (RFC 3062) where the server's root DSE offers it, else an LDAP modify of `userPassword` (a salted `{SSHA}` hash on OpenLDAP; refused where the server is seen to keep it in clear text), or of `unicodePwd` on Entra ID (replace by an admin, delete and add for a self change)",
  verifiedBy: 'a fresh LDAP simple bind as the account DN',
});
