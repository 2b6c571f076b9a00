import { Aws } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';

/** What the engine does with a credential: read it, store a pending version, move its labels. */
export const SECRET_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
  'secretsmanager:ListSecretVersionIds',
] as const;

/** The tag `rpr` puts on every secret it creates (layers/engine/configure.ts). */
export const MANAGED_TAG = { key: 'rpr:managed', value: 'true' } as const;
/** The tag that assigns a secret to an agent site. */
export const SITE_TAG_KEY = 'rpr:site';

/**
 * Grants the engine's secret actions on the secrets this deployment manages, and no others:
 * the resource is every secret of the account and region (names are not known in advance),
 * narrowed by a condition on the secret's `rpr:managed` tag and, for an agent site, its
 * `rpr:site` tag.
 */
export function grantManagedSecrets(grantee: IGrantable, options: { readonly site?: string } = {}): Grant {
  const tags: Record<string, string> = { [`aws:ResourceTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value };
  if (options.site !== undefined) tags[`aws:ResourceTag/${SITE_TAG_KEY}`] = options.site;
  return Grant.addToPrincipal({
    grantee,
    actions: [...SECRET_ACTIONS],
    resourceArns: [`arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:*`],
    conditions: { StringEquals: tags },
  });
}
