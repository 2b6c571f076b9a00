/**
 * AWS SDK clients that function-side code (an adapter) uses, served from the runtime layer: the
 * layer already bundles the SDK's core and Smithy for the stores, and a client bundled into a
 * function would carry a second copy of them (infra/build.ts refuses that). Each function loads
 * only this module's own file from the layer, so the clients cost nothing to the others.
 */
export {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountPasswordPolicyCommand,
  GetLoginProfileCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
  UpdateLoginProfileCommand,
} from '@aws-sdk/client-iam';
export { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
