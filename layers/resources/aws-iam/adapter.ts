import type { IAMClientConfig, PasswordPolicy } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetAccountPasswordPolicyCommand, GetLoginProfileCommand, IAMClient, STSClient, UpdateLoginProfileCommand } from '../../engine/aws-clients.js';
import type { AdapterContext, AdapterFactory, ChangeRequest, ChangeResult, PreflightFinding, PreflightRequest, TargetAdapter, VerifyResult } from '../../engine/adapter.js';
import { InvalidConfigurationError, ResetError, TargetUnchangedError } from '../../engine/errors.js';
import { Secret } from '../../engine/secret.js';
import { assertChangeInput } from '../sql-common.js';
import { policyShortfall, ruleBroken, rulesOf } from './account-policy.js';
import { classify, codeOf, isThrottled, retryAfterMs } from './calls.js';
import { awsIamDefinition, type AwsIamResource } from './schema.js';

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

/** The admin's credentials as the SDK takes them. */
type Credentials = NonNullable<IAMClientConfig['credentials']>;

export interface AwsIamAdapterOptions {
  /**
   * The credentials that assume a resource's `roleArn`. Default: the SDK's default chain (in
   * Lambda, the function's own role). Tests pass their own.
   */
  readonly baseCredentials?: Credentials;
}

/** A user with no console password to change (GetLoginProfile: NoSuchEntity). Nothing was changed. */
export class NoLoginProfileError extends TargetUnchangedError {}

/** Throttled calls are retried this many times here, with backoff, before the workflow backs off. */
const THROTTLE_RETRIES = 2;
const BACKOFF_MS = 250;
/** A Retry-After longer than this is the workflow's to wait, not an invocation's. */
const MAX_WAIT_MS = 5_000;
/** Assumed-role sessions are renewed this long before they expire. */
const RENEW_BEFORE_MS = 60_000;
/** The shortest session AssumeRole grants; renewed as needed, so a stolen one is of little use. */
const ROLE_SESSION_SECONDS = 900;

/** A role session name from the resource id: what CloudTrail shows as the admin's session. */
function sessionName(resourceId: string): string {
  return `rpr-${resourceId}`.replace(/[^A-Za-z0-9+=,.@-]/g, '-').slice(0, 64);
}

/** The access key pair a secret holds: `{"accessKeyId", "secretAccessKey"}` (and `sessionToken`, rarely). */
export function keyPairOf(secret: Secret | undefined): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  const field = 'credentialsSecretId';
  if (!secret) throw new InvalidConfigurationError(field, 'the secret was not loaded');
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret.reveal());
  } catch {
    // The value is never quoted: it may be a key itself.
    throw new InvalidConfigurationError(field, 'the secret must hold JSON: {"accessKeyId": "...", "secretAccessKey": "..."}');
  }
  const { accessKeyId, secretAccessKey, sessionToken } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof accessKeyId !== 'string' || !/^[A-Z0-9]{16,128}$/.test(accessKeyId)) throw new InvalidConfigurationError(field, 'the secret\'s "accessKeyId" must be an access key id (letters and digits)');
  if (typeof secretAccessKey !== 'string' || secretAccessKey === '') throw new InvalidConfigurationError(field, 'the secret\'s "secretAccessKey" is missing');
  if (sessionToken !== undefined && typeof sessionToken !== 'string') throw new InvalidConfigurationError(field, 'the secret\'s "sessionToken" must be a string');
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** Where each client is pointed: the SDK's defaults unless the resource names an endpoint. */
function clientConfig(r: AwsIamResource, endpoint: string | undefined, timeoutMs: number) {
  return {
    ...(r.region !== undefined ? { region: r.region } : {}),
    ...(endpoint !== undefined ? { endpoint } : {}),
    // Retries are this adapter's: only a throttled call is retried, and a change never is.
    maxAttempts: 1,
    // A request with no answer within the deadline fails (the handler only warns unless told to throw).
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
  };
}

class AwsIamAdapter implements TargetAdapter {
  readonly type = 'aws-iam' as const;
  readonly verification = 'none' as const;
  readonly repeatableChange = true;
  readonly #ctx: AdapterContext<AwsIamResource>;
  readonly #iam: IAMClient;
  readonly #sts: STSClient | undefined;
  /** The account's password policy, read once per group: undefined until read, null when none is set. */
  #accountPolicy: PasswordPolicy | null | undefined;

  constructor(ctx: AdapterContext<AwsIamResource>, options: AwsIamAdapterOptions) {
    this.#ctx = ctx;
    const r = ctx.resource;
    let credentials: Credentials;
    if (r.roleArn !== undefined) {
      this.#sts = new STSClient({ ...clientConfig(r, r.stsEndpoint, ctx.timeoutMs), ...(options.baseCredentials ? { credentials: options.baseCredentials } : {}) });
      credentials = this.#roleCredentials(r.roleArn, r.externalId);
    } else {
      const pair = keyPairOf(ctx.secrets.credentials);
      // The redactor knows the secret's whole JSON; its parts are redacted on their own too.
      ctx.redactor.add(new Secret(pair.secretAccessKey));
      if (pair.sessionToken) ctx.redactor.add(new Secret(pair.sessionToken));
      credentials = pair;
    }
    // One client per resource group, reused for every account of it (its connections kept alive).
    this.#iam = new IAMClient({ ...clientConfig(r, r.endpoint, ctx.timeoutMs), credentials });
  }

  /** The role's session, assumed on first use and renewed before it expires. */
  #roleCredentials(roleArn: string, externalId: string | undefined): Credentials {
    let session: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date } | undefined;
    return async () => {
      if (session && session.expiration.getTime() - Date.now() > RENEW_BEFORE_MS) return session;
      const out = await this.#call(`assuming ${roleArn}`, false, () =>
        this.#sts!.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName(this.#ctx.resource.id), DurationSeconds: ROLE_SESSION_SECONDS, ...(externalId ? { ExternalId: externalId } : {}) })),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new TargetUnchangedError(`assuming ${roleArn}: STS answered without credentials; nothing was changed`);
      this.#ctx.redactor.add(new Secret(c.SecretAccessKey)).add(new Secret(c.SessionToken));
      session = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration ?? new Date(Date.now() + ROLE_SESSION_SECONDS * 1000) };
      return session;
    };
  }

  /**
   * One API call, classified (calls.ts). A throttled call is retried a few times with backoff
   * (honouring Retry-After): the service did not act on it, so even the change may be sent again.
   */
  async #call<T>(what: string, changing: boolean, send: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send();
      } catch (e) {
        // The credentials provider's own errors (assuming the role) arrive classified, and retried, already.
        if (e instanceof ResetError) throw e;
        if (!isThrottled(e)) throw classify(e, what, changing);
        const wait = retryAfterMs(e);
        if (attempt >= THROTTLE_RETRIES || (wait !== undefined && wait > MAX_WAIT_MS)) throw classify(e, what, changing);
        const backoff = wait ?? BACKOFF_MS * 2 ** attempt * (1 + Math.random());
        this.#ctx.log.info('aws-iam: throttled; retrying', { what, attempt: attempt + 1, waitMs: Math.round(backoff) });
        await new Promise((r) => setTimeout(r, backoff));
      }
    }
  }

  async #readAccountPolicy(): Promise<PasswordPolicy | null> {
    if (this.#accountPolicy !== undefined) return this.#accountPolicy;
    try {
      const out = await this.#call('reading the account password policy', false, () => this.#iam.send(new GetAccountPasswordPolicyCommand({})));
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
      await this.#call(`reading the login profile of ${username}`, false, () => this.#iam.send(new GetLoginProfileCommand({ UserName: username })));
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
    await this.#call(`changing the console password of ${username}`, true, () =>
      this.#iam.send(new UpdateLoginProfileCommand({ UserName: username, Password: req.newPassword.reveal(), PasswordResetRequired: resetRequired })),
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
    this.#iam.destroy();
    this.#sts?.destroy();
    return Promise.resolve();
  }
}

/** The adapter factory, with what the function cannot configure per resource (the role's base credentials). */
export function awsIamAdapterFactory(options: AwsIamAdapterOptions = {}): AdapterFactory<AwsIamResource> {
  return (ctx) => new AwsIamAdapter(ctx, options);
}

export const createAwsIamAdapter: AdapterFactory<AwsIamResource> = awsIamAdapterFactory();
