import type { AdapterFactory, ChangeRequest, Credential, IssueRequest, PreflightRequest, TargetAdapter, VerifyRequest } from './adapter.js';
import { InvalidConfigurationError, NotFoundError, NotSupportedError, OutcomeUnknownError, ResetError, TargetUnchangedError } from './errors.js';
import { trustOnFirstUse } from './host-keys.js';
import type { Log } from './log.js';
import { resolvePolicy, type Policy, type PolicyOverrides } from './policy.js';
import { Redactor } from './redact.js';
import type { Secret } from './secret.js';
import type { CredentialStore, StateStore, StoredResource } from './stores/types.js';
import type { Account, EngineType, TypeRegistry } from './types.js';

/**
 * The adapters a process carries when it must not load others: each Lambda function has only
 * its own family's (its bundle holds no other driver). Without it, the registry's loaders serve.
 */
export type AdapterRegistry = Readonly<Record<string, AdapterFactory<never>>>;

/** One resource's group: its configuration, resolved logins, adapter and redactor. Opened once, used for every account. */
export interface ResourceSession {
  readonly resource: StoredResource;
  readonly policy: Policy;
  readonly adapter: TargetAdapter;
  readonly redactor: Redactor;
  /** Account ids whose passwords the adapter logs in with (reset last in a group). */
  readonly loginAccountIds: ReadonlySet<string>;
  close(): Promise<void>;
}

export interface SessionDeps {
  readonly state: StateStore;
  readonly credentials: CredentialStore;
  readonly registry: TypeRegistry;
  /** Only these adapters (a Lambda function's own); default: every implemented type's, loaded on first use. */
  readonly adapters?: AdapterRegistry;
  readonly log: Log;
  readonly timeoutMs: number;
}

/** The effective password policy of a resource: its overrides on top of its type's defaults and limits. */
function policyOf(type: EngineType, resource: StoredResource, path = 'policy'): Policy {
  return resolvePolicy(type.policy, resource.policy as PolicyOverrides | undefined, path);
}

async function secretValue(deps: SessionDeps, secretId: string, field: string, what: string): Promise<Secret> {
  const { value } = await deps.credentials.getValue(secretId).catch((e: unknown) => {
    throw e instanceof NotFoundError ? new InvalidConfigurationError(field, `${what} does not exist`, { cause: e }) : e;
  });
  return value;
}

/** Resolves the logins and standalone secrets a resource's configuration names, checking each reference as the type allows. */
async function resolveSecrets(deps: SessionDeps, type: EngineType, resource: StoredResource): Promise<{ credentials: Record<string, Credential>; secrets: Record<string, Secret> }> {
  const credentials: Record<string, Credential> = {};
  for (const ref of type.references(resource as never)) {
    const account = await deps.state.getAccount(ref.accountId);
    if (!account) throw new InvalidConfigurationError(ref.field, `names account "${ref.accountId}", which does not exist`);
    let owner: StoredResource | undefined = resource;
    if (account.resourceId !== resource.id) {
      owner = await deps.state.getResource(account.resourceId);
      if (!owner || !ref.fromResourceTypes.includes(owner.type)) {
        throw new InvalidConfigurationError(
          ref.field,
          `names account "${ref.accountId}" of another resource; it may only come from this resource${ref.fromResourceTypes.length ? ` or a ${ref.fromResourceTypes.join('/')} resource` : ''}`,
        );
      }
    }
    const password = await secretValue(deps, account.secretId, ref.field, `the secret of account "${account.id}"`);
    const domain = deps.registry.typeOf(owner.type).realm?.(owner as never);
    credentials[ref.role] = { accountId: account.id, username: account.username, password, ...(domain ? { domain } : {}) };
  }
  const secrets: Record<string, Secret> = {};
  for (const ref of type.secrets(resource as never)) {
    const value = await secretValue(deps, ref.secretId, ref.field, `secret "${ref.secretId}"`);
    secrets[ref.name] = value;
    if (ref.ofLogin === undefined) continue;
    const login = credentials[ref.ofLogin];
    if (!login) throw new InvalidConfigurationError(ref.field, `has no "${ref.ofLogin}" account to belong to`);
    credentials[ref.ofLogin] = { ...login, privateKey: value };
  }
  return { credentials, secrets };
}

/** The adapter factory for a type, or NotSupportedError when this process cannot reset it. */
async function adapterFactory(deps: SessionDeps, type: EngineType): Promise<AdapterFactory<unknown>> {
  if (!deps.adapters) return (await type.adapter()) as AdapterFactory<unknown>;
  const own = deps.adapters[type.type] as AdapterFactory<unknown> | undefined;
  if (!own) throw new NotSupportedError('type', `resource type "${type.type}" is not served here (this function serves ${Object.keys(deps.adapters).join(', ')})`);
  return own;
}

/**
 * Wraps an adapter so every error leaving it is redacted and classified, at this one choke
 * point: the redactor knows the session's logins and standalone secrets, and each request's new,
 * current and pending passwords. The adapter's own error is left as it is; what leaves is a copy
 * of it, redacted (an unexpected error from `change` may have changed the target, so it becomes
 * OutcomeUnknownError). One conversation at a time runs on the resource's connection while the
 * engine overlaps the store work of several accounts.
 */
function guarded(adapter: TargetAdapter, redactor: Redactor): TargetAdapter {
  const wrap = (e: unknown, op: 'change' | 'verify' | 'close' | 'passwordLastSet' | 'lockout' | 'preflight' | 'issue' | 'revoke' | 'retire', request: Redactor = redactor): never => {
    const err = request.redactedCopy(e);
    if (err instanceof ResetError) throw err;
    if (op === 'change') throw new OutcomeUnknownError(`unexpected error while changing the password: ${err.message}`, { cause: err });
    throw new TargetUnchangedError(`unexpected error during ${op}: ${err.message}`, { cause: err });
  };
  let turn: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const mine = turn.then(fn, fn);
    turn = mine.catch(() => undefined);
    return mine;
  };
  return {
    type: adapter.type,
    verification: adapter.verification,
    ...(adapter.repeatableChange ? { repeatableChange: true } : {}),
    change: (req: ChangeRequest) => {
      const request = redactor.with(req.newPassword, req.currentPassword);
      return serial(() => adapter.change(req)).then(
        (result) => ({ ...result, method: request.redact(result.method) }),
        (e: unknown) => wrap(e, 'change', request),
      );
    },
    verify: (req: VerifyRequest) => {
      const request = redactor.with(req.password);
      return serial(() => adapter.verify(req)).then(
        (result) => (result.detail === undefined ? result : { ...result, detail: request.redact(result.detail) }),
        (e: unknown) => wrap(e, 'verify', request),
      );
    },
    close: () => serial(() => adapter.close()).catch((e: unknown) => wrap(e, 'close')),
    // An issuing type's credential is the account's to keep: the issued value itself is not redacted, only errors.
    ...(adapter.issue ? { issue: (req: IssueRequest) => serial(() => adapter.issue!(req)).catch((e: unknown) => wrap(e, 'issue', redactor.with(req.current, req.previous))) } : {}),
    ...(adapter.revoke ? { revoke: (req: { account: Account; credential: Secret }) => serial(() => adapter.revoke!(req)).catch((e: unknown) => wrap(e, 'revoke', redactor.with(req.credential))) } : {}),
    ...(adapter.retire
      ? {
          retire: (req: { account: Account; previous: Secret; current: Secret }) => {
            const request = redactor.with(req.previous, req.current);
            return serial(() => adapter.retire!(req)).then(
              (done) => (done === undefined ? done : request.redact(done)),
              (e: unknown) => wrap(e, 'retire', request),
            );
          },
        }
      : {}),
    ...(adapter.lockout ? { lockout: (account: Account) => serial(() => adapter.lockout!(account)).catch((e: unknown) => wrap(e, 'lockout')) } : {}),
    ...(adapter.passwordLastSet ? { passwordLastSet: (account: Account) => serial(() => adapter.passwordLastSet!(account)).catch((e: unknown) => wrap(e, 'passwordLastSet')) } : {}),
    ...(adapter.preflight
      ? {
          preflight: (req: PreflightRequest) =>
            serial(() => adapter.preflight!(req)).then(
              (findings) => findings.map((f) => ({ ...f, detail: redactor.redact(f.detail) })),
              (e: unknown) => wrap(e, 'preflight'),
            ),
        }
      : {}),
  };
}

export async function openResourceSession(deps: SessionDeps, resourceId: string): Promise<ResourceSession> {
  const resource = await deps.state.getResource(resourceId);
  if (!resource) throw new NotFoundError('resourceId', `resource "${resourceId}" does not exist`);
  const type = deps.registry.typeOf(resource.type);
  const factory = await adapterFactory(deps, type);
  const policy = policyOf(type, resource);
  const { credentials, secrets } = await resolveSecrets(deps, type, resource);
  const redactor = new Redactor();
  for (const c of Object.values(credentials)) redactor.add(c.password).add(c.privateKey);
  for (const value of Object.values(secrets)) redactor.add(value);
  const log = deps.log.child({ resourceId, type: resource.type }, redactor);
  const hostKeys = trustOnFirstUse(deps.state, resource.id, log);
  const adapter = guarded(factory({ resource, policy, credentials, secrets, log, redactor, timeoutMs: deps.timeoutMs, hostKeys }), redactor);
  return {
    resource,
    policy,
    adapter,
    redactor,
    loginAccountIds: new Set(Object.values(credentials).map((c) => c.accountId)),
    close: () => adapter.close().catch((e: unknown) => log.warn('closing the resource connection failed', { error: e })),
  };
}

/** Orders a group's accounts so that the logins the adapter uses are changed last. */
export function orderForReset(session: Pick<ResourceSession, 'loginAccountIds'>, accounts: Account[]): Account[] {
  return [...accounts].sort((a, b) => Number(session.loginAccountIds.has(a.id)) - Number(session.loginAccountIds.has(b.id)));
}
