import { z } from 'zod';
import { hostSchema, resourceBase, secretIdSchema } from '../common.js';
import { defineType, tcp } from '../definition.js';

/** Symbols IAM counts toward "require at least one non-alphanumeric character". */
export const IAM_SYMBOLS = "!@#$%^&*()_+-=[]{}|'";

/** Hosts an `http://` endpoint may name: an emulator on this machine (moto in the tests), never a network. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * An API endpoint the SDK is pointed at instead of its default (a partition's or a FIPS endpoint,
 * or an emulator): https, or http to loopback only. Only scheme, host and port: nothing a request
 * path or a credential could hide in.
 */
const endpointSchema = z
  .string()
  .max(2048)
  .refine((text) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return false;
    }
    if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) return false;
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  }, 'must be an https:// URL with no path (http:// only to a loopback address, for an emulator such as moto)');

export const awsIamSchema = z
  .object({
    ...resourceBase,
    type: z.literal('aws-iam'),
    host: hostSchema.default('iam.amazonaws.com'),
    /**
     * What the resource's accounts' secrets hold and what a reset changes: `console-password`
     * (`UpdateLoginProfile`; the secret holds the password) or `access-key` (a new key pair issued
     * by `CreateAccessKey`; the secret holds `{"accessKeyId", "secretAccessKey"}`).
     */
    manages: z.enum(['console-password', 'access-key']).default('console-password'),
    /**
     * For `access-key`: days the replaced key stays, deactivated, before it is deleted (by the
     * first reset of the account after them). 0 deletes it as soon as the new key is current.
     * Unset: 7.
     */
    oldKeyGraceDays: z.number().int().min(0).max(365).optional(),
    /**
     * The admin as a role to assume (recommended: no long-lived key): the function's own
     * credentials call `sts:AssumeRole` on it. Exactly one of `roleArn` and `credentialsSecretId`.
     */
    roleArn: z
      .string()
      .regex(/^arn:aws(-cn|-us-gov|-iso|-iso-b)?:iam::\d{12}:role\/[A-Za-z0-9+=,.@_/-]{1,512}$/, 'must be an IAM role ARN such as "arn:aws:iam::123456789012:role/rpr/password-admin"')
      .optional(),
    /** The external id the role's trust policy requires (`sts:ExternalId`), if any. Only with `roleArn`. */
    externalId: z.string().regex(/^[A-Za-z0-9+=,.@:/_-]{2,1224}$/, 'must be 2 to 1224 of letters, digits and + = , . @ : / _ -').optional(),
    /** The admin as an access key pair kept as a secret: JSON `{"accessKeyId": "...", "secretAccessKey": "..."}`. */
    credentialsSecretId: secretIdSchema.optional(),
    /** Region the SDK signs for and STS is reached in (IAM itself is global). Unset: the SDK's default, the function's region. */
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region such as "us-east-1"').optional(),
    /** IAM's endpoint, when not the SDK's default for the region's partition. */
    endpoint: endpointSchema.optional(),
    /** STS's endpoint (for `roleArn`), when not the SDK's default for the region. */
    stsEndpoint: endpointSchema.optional(),
    /** Whether the user must choose a new password at the next console sign-in (`PasswordResetRequired`). */
    passwordResetRequired: z.boolean().default(false),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.roleArn === undefined && r.credentialsSecretId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['roleArn'], message: 'is required, or credentialsSecretId: the admin is a role to assume (recommended) or an access key pair kept as a secret' });
    } else if (r.roleArn !== undefined && r.credentialsSecretId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['credentialsSecretId'], message: 'must not be given with roleArn: the admin is either a role to assume or an access key pair, not both' });
    }
    if (r.externalId !== undefined && r.roleArn === undefined) {
      ctx.addIssue({ code: 'custom', path: ['externalId'], message: 'is only for a role to assume: give roleArn too' });
    }
    // An access key is proven by STS too (GetCallerIdentity with it).
    if (r.stsEndpoint !== undefined && r.roleArn === undefined && r.manages !== 'access-key') {
      ctx.addIssue({ code: 'custom', path: ['stsEndpoint'], message: 'is only used to assume roleArn or to prove access keys: give roleArn, or manages "access-key"' });
    }
    if (r.oldKeyGraceDays !== undefined && r.manages !== 'access-key') {
      ctx.addIssue({ code: 'custom', path: ['oldKeyGraceDays'], message: 'is only for access keys: give manages "access-key" too' });
    }
    if (r.passwordResetRequired && r.manages === 'access-key') {
      ctx.addIssue({ code: 'custom', path: ['passwordResetRequired'], message: 'is only for console passwords, not manages "access-key"' });
    }
  });

export type AwsIamResource = z.output<typeof awsIamSchema>;

export const awsIamDefinition = defineType({
  type: 'aws-iam',
  title: 'AWS IAM users (console passwords, access keys)',
  schema: awsIamSchema,
  defaultPort: 443,
  ports: () => tcp(443),
  defaultPorts: tcp(443),
  // IAM takes 6 to 128 printable ASCII characters.
  policy: { length: 32, minLength: 6, maxLength: 128, allowUnicode: false, symbols: IAM_SYMBOLS },
  username: z.string().regex(/^[A-Za-z0-9+=,.@_-]{1,64}$/, 'must be an IAM user name: letters, digits and + = , . @ _ - (at most 64)'),
  references: () => [],
  secrets: (r) => (r.credentialsSecretId !== undefined ? [{ name: 'credentials', field: 'credentialsSecretId', secretId: r.credentialsSecretId }] : []),
  onPremises: false,
  assumesRoles: true,
  // IAM's API rate is the AWS account's, shared by every resource of it (AWS publishes no figure;
  // it throttles per account): two of a run's groups on one account at once. The account is the
  // role's; for a key pair, whose account the configuration cannot name, the secret's.
  sharedTarget: {
    key: (r) => `${r.endpoint ?? 'aws'}|${r.roleArn !== undefined ? `account:${r.roleArn.split(':')[4]}` : `secret:${r.credentialsSecretId}`}`,
    groupsAtOnce: 2,
  },
  verification: 'none',
  implementation: {
    family: 'aws-iam',
    adapter: () => import('./adapter.js').then((m) => m.createAwsIamAdapter),
    testedAgainst: {
      kind: 'real server',
      what: "moto 5.2 in server mode with request authentication on (access keys, assumed-role sessions and the admin's IAM policy are checked); the role's trust policy is checked too, principal by exact ARN and `sts:ExternalId`; moto does not enforce the account password policy (the product's own check is what the tests prove) and matches identity policies against resource `*` only; it enforces two access keys per user but authenticates an inactive key (the tests read the key's status instead); throttling and STS's refusal of a key not yet propagated come from a proxy in front of it",
      using: ['moto'],
    },
  },
  changedBy: 'console passwords: IAM `UpdateLoginProfile` (`PasswordResetRequired` as configured), after `GetAccountPasswordPolicy` (a password it would refuse is never sent) and `GetLoginProfile` (a user without a console password is refused, never given one); access keys (`manages: access-key`): `CreateAccessKey`, the new pair stored as pending at once, the replaced key deactivated once the new one is current and deleted after `oldKeyGraceDays`; as an assumed role or with an access key pair',
  verifiedBy: "console passwords: IAM's answer to `UpdateLoginProfile` (confirmed by the provider; a console sign-in cannot be made through the API, so no login is claimed); access keys: `sts:GetCallerIdentity` signed with the new key, as the user (logged in), waiting out IAM's propagation",
});
