import { z } from 'zod';
import { hostSchema, resourceBase, secretIdSchema } from '../common.js';
import { defineType, tcp } from '../definition.js';

/** Symbols IAM counts toward "require at least one non-alphanumeric character". */
const IAM_SYMBOLS = "!@#$%^&*()_+-=[]{}|'";

export const awsIamSchema = z
  .object({
    ...resourceBase,
    type: z.literal('aws-iam'),
    host: hostSchema.default('iam.amazonaws.com'),
    /** Secret holding the admin's credentials as JSON: `{"accessKeyId": "...", "secretAccessKey": "..."}`. */
    credentialsSecretId: secretIdSchema,
    /** Region for the STS endpoint (IAM itself is global). Unset: the function's region. */
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region such as "us-east-1"').optional(),
  })
  .strict();

export type AwsIamResource = z.output<typeof awsIamSchema>;

export const awsIamDefinition = defineType({
  type: 'aws-iam',
  title: 'AWS IAM users (console passwords)',
  schema: awsIamSchema,
  defaultPort: 443,
  ports: () => tcp(443),
  defaultPorts: tcp(443),
  // IAM takes 6 to 128 printable ASCII characters.
  policy: { length: 32, minLength: 6, maxLength: 128, allowUnicode: false, symbols: IAM_SYMBOLS },
  username: z.string().regex(/^[A-Za-z0-9+=,.@_-]{1,64}$/, 'must be an IAM user name: letters, digits and + = , . @ _ - (at most 64)'),
  references: () => [],
  secrets: (r) => [{ name: 'credentials', field: 'credentialsSecretId', secretId: r.credentialsSecretId }],
  onPremises: false,
  verification: 'none',
  implementation: 'not yet',
  changedBy: 'IAM `UpdateLoginProfile` (the console password) with the admin access key',
  verifiedBy: 'IAM `GetLoginProfile` shows the profile updated (a console sign-in cannot be made through the API)',
});
