import type { IAMClientConfig } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, IAMClient, STSClient } from '../../engine/aws-clients.js';
import type { AdapterContext } from '../../engine/adapter.js';
import { InvalidConfigurationError, ResetError, TargetUnchangedError } from '../../engine/errors.js';
import { Secret } from '../../engine/secret.js';
import { classify, isThrottled, retryAfterMs } from './calls.js';
import type { AwsIamResource } from './schema.js';

/**
 * The admin's IAM client, shared by what an aws-iam resource manages (console passwords, access
 * keys). The admin is a role assumed with the function's own credentials (`roleArn`, the
 * recommended way: no long-lived key), or an access key pair kept as a secret
 * (`credentialsSecretId`). One client per resource group, its connections kept alive.
 */

/** The credentials as the SDK takes them. */
export type Credentials = NonNullable<IAMClientConfig['credentials']>;

export interface AwsIamAdapterOptions {
  /**
   * The credentials that assume a resource's `roleArn`. Default: the SDK's default chain (in
   * Lambda, the function's own role). Tests pass their own.
   */
  readonly baseCredentials?: Credentials;
  /** The clock the access keys' grace period is read by. Tests move it. */
  readonly now?: () => Date;
  /** How long a new access key may be refused while IAM propagates it. Default 30 s. */
  readonly keyPropagationMs?: number;
}

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

export interface KeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * The access key pair a secret holds: `{"accessKeyId", "secretAccessKey"}` (and `sessionToken`,
 * rarely). `field` names the configuration that points at the secret, for the error.
 */
export function keyPairOf(secret: Secret | undefined, field = 'credentialsSecretId'): KeyPair {
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

/** Where a client is pointed: the SDK's defaults unless the resource names an endpoint. */
export function clientConfig(r: AwsIamResource, endpoint: string | undefined, timeoutMs: number) {
  return {
    ...(r.region !== undefined ? { region: r.region } : {}),
    ...(endpoint !== undefined ? { endpoint } : {}),
    // Retries are this adapter's: only a throttled call is retried, and a change never is.
    maxAttempts: 1,
    // A request with no answer within the deadline fails (the handler only warns unless told to throw).
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
  };
}

export class IamAdmin {
  readonly iam: IAMClient;
  readonly #sts: STSClient | undefined;
  readonly #ctx: AdapterContext<AwsIamResource>;

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
    this.iam = new IAMClient({ ...clientConfig(r, r.endpoint, ctx.timeoutMs), credentials });
  }

  /** The role's session, assumed on first use and renewed before it expires. */
  #roleCredentials(roleArn: string, externalId: string | undefined): Credentials {
    let session: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date } | undefined;
    return async () => {
      if (session && session.expiration.getTime() - Date.now() > RENEW_BEFORE_MS) return session;
      const out = await this.call(`assuming ${roleArn}`, false, () =>
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
   * (honouring Retry-After): the service did not act on it, so even a change may be sent again.
   */
  async call<T>(what: string, changing: boolean, send: () => Promise<T>): Promise<T> {
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

  close(): void {
    this.iam.destroy();
    this.#sts?.destroy();
  }
}
