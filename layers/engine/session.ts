import type { Account, ResourceType } from '../resources/common.js';
import { definitionOf, policyOf } from '../resources/registry.js';
import type { AdapterFactory, ChangeRequest, Credential, TargetAdapter, VerifyRequest } from './adapter.js';
import { InvalidConfigurationError, NotFoundError, NotSupportedError, OutcomeUnknownError, ResetError, TargetUnchangedError } from './errors.js';
import { trustOnFirstUse } from './host-keys.js';
import type { Log } from './log.js';
import type { Policy } from './policy.js';
import { Redactor } from './redact.js';
import type { CredentialStore, StateStore, StoredResource } from './stores/types.js';

/** The adapters a process carries: the CLI has all, each Lambda function only its own. */
export type AdapterRegistry = Partial<Record<ResourceType, AdapterFactory<never>>>;

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
  readonly adapters: AdapterRegistry;
  readonly log: Log;
  readonly timeoutMs: number;
}

/** Resolves the logins a resource's configuration names, checking each reference as the type allows. */
async function resolveCredentials(deps: SessionDeps, resource: StoredResource): Promise<Record<string, Credential>> {
  const def = definitionOf(resource.type);
  const out: Record<string, Credential> = {};
  for (const ref of def.references(resource as never)) {
    const account = await deps.state.getAccount(ref.accountId);
    if (!account) throw new InvalidConfigurationError(ref.field, `names account "${ref.accountId}", which does not exist`);
    let owner: StoredResource | undefined = resource;
    if (account.resourceId !== resource.id) {
      owner = await deps.state.getResource(account.resourceId);
      if (!owner || !(ref.fromResourceTypes as readonly string[]).includes(owner.type)) {
        throw new InvalidConfigurationError(
          ref.field,
          `names account "${ref.accountId}" of another resource; it may only come from this resource${ref.fromResourceTypes.length ? ` or a ${ref.fromResourceTypes.join('/')} resource` : ''}`,
        );
      }
    }
    const { value } = await deps.credentials.getValue(account.secretId).catch((e: unknown) => {
      throw e instanceof NotFoundError ? new InvalidConfigurationError(ref.field, `the secret of account "${account.id}" does not exist`, { cause: e }) : e;
    });
    const domain = owner.type === 'windows-domain' && typeof owner.domain === 'string' ? { domain: owner.domain } : {};
    out[ref.role] = { accountId: account.id, username: account.username, password: value, ...domain };
  }
  for (const key of def.keys?.(resource as never) ?? []) {
    const { value } = await deps.credentials.getValue(key.secretId).catch((e: unknown) => {
      throw e instanceof NotFoundError ? new InvalidConfigurationError(key.field, `secret "${key.secretId}" does not exist`, { cause: e }) : e;
    });
    const login = out[key.role];
    if (!login) throw new InvalidConfigurationError(key.field, `has no "${key.role}" account to belong to`);
    out[key.role] = { ...login, privateKey: value };
  }
  return out;
}

/**
 * Wraps an adapter so every error leaving it is redacted and classified (an unexpected error
 * from `change` may have changed the target, so it becomes OutcomeUnknownError), and so that
 * one conversation at a time runs on the resource's connection while the engine overlaps the
 * store work of several accounts.
 */
function guarded(adapter: TargetAdapter, redactor: Redactor): TargetAdapter {
  const wrap = (e: unknown, op: 'change' | 'verify' | 'close' | 'passwordLastSet'): never => {
    const err = redactor.redactError(e);
    if (err instanceof ResetError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    if (op === 'change') throw new OutcomeUnknownError(`unexpected error while changing the password: ${message}`, { cause: err });
    throw new TargetUnchangedError(`unexpected error during ${op}: ${message}`, { cause: err });
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
    change: (req: ChangeRequest) => serial(() => adapter.change(req)).catch((e) => wrap(e, 'change')),
    verify: (req: VerifyRequest) => serial(() => adapter.verify(req)).catch((e) => wrap(e, 'verify')),
    close: () => serial(() => adapter.close()).catch((e) => wrap(e, 'close')),
    ...(adapter.passwordLastSet ? { passwordLastSet: (account: Account) => serial(() => adapter.passwordLastSet!(account)).catch((e) => wrap(e, 'passwordLastSet')) } : {}),
  };
}

export async function openResourceSession(deps: SessionDeps, resourceId: string): Promise<ResourceSession> {
  const resource = await deps.state.getResource(resourceId);
  if (!resource) throw new NotFoundError('resourceId', `resource "${resourceId}" does not exist`);
  const factory = deps.adapters[resource.type as ResourceType] as AdapterFactory<unknown> | undefined;
  if (!factory) {
    definitionOf(resource.type); // an unknown type gets its own error
    throw new NotSupportedError('type', `resource type "${resource.type}" is not supported yet: it can be configured, but no adapter can reset it`);
  }
  const policy = policyOf(resource);
  const credentials = await resolveCredentials(deps, resource);
  const redactor = new Redactor();
  for (const c of Object.values(credentials)) redactor.add(c.password).add(c.privateKey);
  const log = deps.log.child({ resourceId, type: resource.type }, redactor);
  const hostKeys = trustOnFirstUse(deps.state, resource.id, log);
  const adapter = guarded(factory({ resource, policy, credentials, log, redactor, timeoutMs: deps.timeoutMs, hostKeys }), redactor);
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
