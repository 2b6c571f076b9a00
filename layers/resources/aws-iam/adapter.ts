import type { PasswordPolicy } from '@aws-sdk/client-iam';
import { GetAccountPasswordPolicyCommand, GetLoginProfileCommand, UpdateLoginProfileCommand } from '../../engine/aws-clients.js';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, PreflightFinding, PreflightRequest, TargetAdapter, VerifyResult } from '../../engine/adapter.js';
import { InvalidConfigurationError, TargetUnchangedError } from '../../engine/errors.js';
import { assertChangeInput } from '../sql-common.js';
import { AwsIamAccessKeyAdapter } from './access-keys.js';
import { policyShortfall, ruleBroken, rulesOf } from './account-policy.js';
import { IamAdmin, type AwsIamAdapterOptions } from './admin.js';
import { codeOf } from './calls.js';
import { awsIamDefinition, type AwsIamResource } from './schema.js';

export { keyPairOf, type AwsIamAdapterOptions } from './admin.js';

/**
 * IAM console passwords, changed by the admin with `UpdateLoginProfile`.
 *
 * The admin is a role assumed with the function's own credentials (`roleArn`, the recommended
 * way: no long-lived key), or an access key pair kept as a secret (`credentialsSecretId`).
 * Before anything is changed, the account's password policy is read (`GetAccountPasswordPolicy`;
 * none set means IAM's default) and a password it would refuse is never sent, and the user's
 * login profile is read (`GetLoginProfile`): a user without a console password is refused, never
 * given one (that would open a console sign-in nobody asked for).
 *
 * `UpdateLoginProfile` sets the password it is given whatever the user held, so sending the same
 * one again is harmless (`repeatableChange`): the engine reconciles a change cut off after it was
 * sent by sending the same pending password again, and so does a retried set step. It is never
 * retried here with any other value. The password travels only in the signed POST body, never in
 * a URL, a header or a log line; IAM stores only a hash of it.
 *
 * IAM cannot prove a console password through its API (a sign-in is a browser flow, with MFA
 * where set), so the type's verification is `none`: the provider's answer to the change is what
 * the record names ("confirmed by the provider"), never a login.
 */

/** A user with no console password to change (GetLoginProfile: NoSuchEntity). Nothing was changed. */
export class NoLoginProfileError extends TargetUnchangedError {}

class AwsIamAdapter implements TargetAdapter {
  readonly type = 'aws-iam' as const;
  readonly verification = 'none' as const;
  readonly repeatableChange = true;
  readonly #ctx: AdapterContext<AwsIamResource>;
  readonly #admin: IamAdmin;
  /** The account's password policy, read once per group: undefined until read, null when none is set. */
  #accountPolicy: PasswordPolicy | null | undefined;

  constructor(ctx: AdapterContext<AwsIamResource>, admin: IamAdmin) {
    this.#ctx = ctx;
    this.#admin = admin;
  }

  async #readAccountPolicy(): Promise<PasswordPolicy | null> {
    if (this.#accountPolicy !== undefined) return this.#accountPolicy;
    try {
      const out = await this.#admin.call('reading the account password policy', false, () => this.#admin.iam.send(new GetAccountPasswordPolicyCommand({})));
      this.#accountPolicy = out.PasswordPolicy ?? null;
    } catch (e) {
      // NoSuchEntity: the account has no custom policy, so IAM's default applies.
      if (!(e instanceof TargetUnchangedError && codeOf(e.cause) === 'NoSuchEntity')) throw e;
      this.#accountPolicy = null;
    }
    return this.#accountPolicy;
  }

  /** Refuses a user without a console password: UpdateLoginProfile would fail, and creating one is not ours to do. */
  async #assertHasLoginProfile(username: string): Promise<void> {
    try {
      await this.#admin.call(`reading the login profile of ${username}`, false, () => this.#admin.iam.send(new GetLoginProfileCommand({ UserName: username })));
    } catch (e) {
      if (e instanceof TargetUnchangedError && codeOf(e.cause) === 'NoSuchEntity') {
        throw new NoLoginProfileError(`${username} has no console password (no login profile, or no such user); rpr changes console passwords and never creates one; nothing was changed`, { cause: e });
      }
      throw e;
    }
  }

  async change(req: ChangeRequest): Promise<ChangeResult> {
    assertChangeInput(this.#ctx, awsIamDefinition.username, req);
    const username = req.account.username;
    const broken = ruleBroken(rulesOf((await this.#readAccountPolicy()) ?? undefined), req.newPassword);
    if (broken) {
      throw new InvalidConfigurationError('newPassword', `IAM's account password policy requires ${broken}; nothing was sent (make the resource's policy ask for it)`);
    }
    await this.#assertHasLoginProfile(username);
    const resetRequired = this.#ctx.resource.passwordResetRequired;
    // Repeatable: the same password sent twice leaves the same state (see the header).
    await this.#admin.call(`changing the console password of ${username}`, true, () =>
      this.#admin.iam.send(new UpdateLoginProfileCommand({ UserName: username, Password: req.newPassword.reveal(), PasswordResetRequired: resetRequired })),
    );
    return { method: resetRequired ? 'admin reset (UpdateLoginProfile, change required at next sign-in)' : 'admin reset (UpdateLoginProfile)' };
  }

  /** Never called by the engine (verification `none`): IAM offers no way to check a password. */
  verify(): Promise<VerifyResult> {
    return Promise.reject(new InvalidConfigurationError('type', 'aws-iam cannot check a console password through the API (verification: none)'));
  }

  /** A dry run: the admin's credentials work, the account's policy is met by the resource's, and each user has a console password. */
  async preflight(req: PreflightRequest): Promise<readonly PreflightFinding[]> {
    const policy = await this.#readAccountPolicy();
    const shortfall = policyShortfall(rulesOf(policy ?? undefined), this.#ctx.policy);
    const findings: PreflightFinding[] = [
      { check: 'account password policy', ok: !shortfall, detail: shortfall ?? (policy ? "the resource's policy meets the account's password policy" : "no account password policy is set; the resource's policy meets IAM's default") },
    ];
    for (const account of req.accounts) {
      try {
        await this.#assertHasLoginProfile(account.username);
        findings.push({ accountId: account.id, check: 'login profile', ok: true, detail: 'has a console password' });
      } catch (e) {
        if (!(e instanceof NoLoginProfileError)) throw e;
        findings.push({ accountId: account.id, check: 'login profile', ok: false, detail: e.message });
      }
    }
    return findings;
  }

  close(): Promise<void> {
    this.#admin.close();
    return Promise.resolve();
  }
}

/** The adapter factory, with what the function cannot configure per resource (the role's base credentials). */
export function awsIamAdapterFactory(options: AwsIamAdapterOptions = {}): AdapterFactory<AwsIamResource> {
  return (ctx) => {
    const admin = new IamAdmin(ctx, options);
    return ctx.resource.manages === 'access-key' ? new AwsIamAccessKeyAdapter(ctx, admin, options) : new AwsIamAdapter(ctx, admin);
  };
}

export const createAwsIamAdapter: AdapterFactory<AwsIamResource> = awsIamAdapterFactory();
