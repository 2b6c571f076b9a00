import { z } from 'zod';
import { hasControlCharacter, policyOverridesSchema } from '../engine/policy.js';
import { secretIdSchema } from '../engine/stores/types.js';
import type { Account as EngineAccount } from '../engine/types.js';

/** Every resource type the configuration model knows. Adding one here makes the compiler ask for its registry entry. */
export const RESOURCE_TYPES = [
  'windows', 'windows-domain',
  'linux', 'aix', 'hp-ux', 'solaris', 'macos', 'esxi',
  'as400', 'alom', 'ilom', 'xscf',
  'mysql', 'postgresql', 'weblogic', 'mssql', 'oracle', 'sybase-ase',
  'ldap',
  'hp-procurve', 'hp-ilo', 'cisco-ios', 'cisco-catos', 'cisco-pix', 'juniper-netscreen',
  'aws-iam', 'google-workspace', 'entra-id', 'rackspace', 'salesforce',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must start with a letter or digit and hold only letters, digits, ".", "_" and "-" (at most 128)');

/** An account's id: `<resource id>/<name>`; the name part may be any printable text (a DN, say). */
export const accountIdSchema = z
  .string()
  .max(1200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\/.+$/s, 'must be "<resource id>/<account name>"')
  .refine((id) => !hasControlCharacter(id), 'must not hold control characters');

/** A secret's name or ARN in the credential store. */
export { secretIdSchema };

/** A host name or IP address; never anything a shell or URL could read as more. */
export const hostSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:]+)$/, 'must be a host name or an IP address');

export const portSchema = z.number().int().min(1).max(65535);
export const tagSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9:._=-]{0,63}$/, 'must be letters, digits and : . _ = - (at most 64)');
/** "cloud" runs in the cloud; any other name is an agent site. */
export const siteSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and "-"');

/** PEM text of a CA certificate bundle (public, so kept in configuration). */
export const caCertificateSchema = z
  .string()
  .regex(/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/, 'must be a PEM certificate')
  .max(65536);

/** Fields every resource has, whatever its type. */
export const resourceBase = {
  id: idSchema,
  host: hostSchema,
  site: siteSchema.default('cloud'),
  tags: z.array(tagSchema).max(50).default([]),
  description: z.string().max(1024).optional(),
  /** Overrides of the type's password policy; a resource may tighten the type's limits, never loosen them. */
  policy: policyOverridesSchema.optional(),
};

/** Fields of a resource whose type has an SSH or Telnet command line. */
export const cliTransport = {
  protocol: z.enum(['ssh', 'telnet']).default('ssh'),
  port: portSchema.optional(),
  /** SHA-256 fingerprint of the SSH host key (base64, as ssh-keygen -lf prints it, without "SHA256:"), pinned. Unset: the first key seen is recorded in the resource's state and required afterwards (trust on first use). */
  hostKeySha256: z.string().regex(/^[A-Za-z0-9+/]{43}=?$/, 'must be a base64 SHA-256 fingerprint').optional(),
};

export const tlsOptions = {
  ssl: z.boolean().default(false),
  caCertificate: caCertificateSchema.optional(),
};

export const accountSchema = z
  .object({
    id: accountIdSchema.optional(),
    resourceId: idSchema,
    /** The user name on the target (a DN for LDAP). Each type checks it further. */
    username: z.string().min(1).max(1024),
    secretId: secretIdSchema,
    tags: z.array(tagSchema).max(50).default([]),
    description: z.string().max(1024).optional(),
  })
  .strict()
  .transform((a) => ({ ...a, id: a.id ?? `${a.resourceId}/${a.username}` }));

/** The engine's account; the schema's output is one. */
export type Account = EngineAccount;
export type AccountInput = z.input<typeof accountSchema>;
