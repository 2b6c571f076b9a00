import { randomUUID } from 'node:crypto';
import { InvalidConfigurationError, NotFoundError } from './errors.js';
import type { Secret } from './secret.js';
import { secretIdSchema, type CredentialStore, type StateStore, type StoredResource } from './stores/types.js';
import type { Account, TypeRegistry } from './types.js';

interface CheckedAccount {
  readonly account: Account;
  readonly site: string;
  readonly password: Secret | undefined;
}

/**
 * Configuration as the CLI and the API change it: every write is validated with the
 * type's schema first, and nothing is written when validation fails.
 */
export class Configurator {
  constructor(
    private readonly state: StateStore,
    private readonly credentials: CredentialStore,
    private readonly registry: TypeRegistry,
  ) {}

  /**
   * A resource's configuration checked: its type's schema, and every standalone secret it names
   * exists in the credential store (InvalidConfigurationError naming the field).
   */
  async #checked(input: unknown): Promise<StoredResource> {
    const resource = this.registry.parseResource(input);
    for (const ref of this.registry.typeOf(resource.type).secrets(resource as never)) {
      await this.credentials.listVersions(ref.secretId).catch((e: unknown) => {
        throw e instanceof NotFoundError ? new InvalidConfigurationError(ref.field, `secret "${ref.secretId}" does not exist; store it first with "rpr secret put ${ref.secretId}"`, { cause: e }) : e;
      });
    }
    return resource;
  }

  /** Validates and stores a resource (a new one, or a whole replacement). */
  async putResource(input: unknown, options: { mustNotExist?: boolean } = {}): Promise<StoredResource> {
    const resource = await this.#checked(input);
    if (options.mustNotExist && (await this.state.getResource(resource.id))) {
      throw new InvalidConfigurationError('id', `resource "${resource.id}" already exists`);
    }
    await this.state.putResource(resource);
    return resource;
  }

  /** Applies changes to a stored resource and validates the result as a whole. */
  async updateResource(id: string, changes: Record<string, unknown>): Promise<StoredResource> {
    const existing = await this.state.getResource(id);
    if (!existing) throw new NotFoundError('id', `resource "${id}" does not exist`);
    if ('id' in changes && changes.id !== id) throw new InvalidConfigurationError('id', 'cannot be changed; add a new resource instead');
    if ('type' in changes && changes.type !== existing.type) throw new InvalidConfigurationError('type', 'cannot be changed; add a new resource instead');
    return this.putResource(mergeDeep(existing, changes));
  }

  async removeResource(id: string, options: { withAccounts?: boolean } = {}): Promise<void> {
    if (!(await this.state.getResource(id))) throw new NotFoundError('id', `resource "${id}" does not exist`);
    const accounts = await this.state.listAccounts({ resourceId: id });
    if (accounts.length && !options.withAccounts) {
      throw new InvalidConfigurationError('id', `resource "${id}" still has ${accounts.length} account(s); remove them first or ask to remove them with it`);
    }
    for (const a of accounts) await this.state.deleteAccount(a.id);
    await this.state.deleteResource(id);
  }

  /**
   * Validates and stores an account. With `password`, creates its secret (named `secretId`)
   * in the credential store first; without, the secret must exist already.
   */
  async putAccount(input: unknown, options: { password?: Secret; mustNotExist?: boolean } = {}): Promise<Account> {
    const checked = await this.#checkedAccount(input, { ...options, passwordOf: () => options.password });
    await this.#storeAccount(checked);
    return checked.account;
  }

  /**
   * An account checked against its resource's type, its id free when asked, and its secret there
   * unless `passwordOf` gives the password that will create it.
   */
  async #checkedAccount(input: unknown, options: { passwordOf: (id: string) => Secret | undefined; mustNotExist?: boolean }): Promise<CheckedAccount> {
    const resourceId = (input as { resourceId?: unknown } | null)?.resourceId;
    const resource = typeof resourceId === 'string' ? await this.state.getResource(resourceId) : undefined;
    if (!resource) throw new InvalidConfigurationError('resourceId', `resource ${JSON.stringify(resourceId)} does not exist`);
    const account = this.registry.parseAccount(input, resource.type);
    if (options.mustNotExist && (await this.state.getAccount(account.id))) {
      throw new InvalidConfigurationError('id', `account "${account.id}" already exists`);
    }
    const password = options.passwordOf(account.id);
    if (!password) {
      await this.credentials.getValue(account.secretId).catch((e: unknown) => {
        throw e instanceof NotFoundError ? new InvalidConfigurationError('secretId', `secret "${account.secretId}" does not exist; give the account's password to create it`, { cause: e }) : e;
      });
    }
    return { account, site: resource.site, password };
  }

  async #storeAccount({ account, site, password }: CheckedAccount): Promise<void> {
    if (password) {
      await this.credentials.createSecret(account.secretId, password, {
        description: `rpr: ${account.id}`,
        // The deployment's IAM reads these: functions take secrets tagged managed, a site's agent role those of its site.
        tags: { 'rpr:managed': 'true', 'rpr:account': account.id, 'rpr:site': site },
      });
    }
    await this.state.putAccount(account);
  }

  /**
   * Imports many new accounts: every row is checked (its resource's type, a free id, a password
   * for it in `passwords` by account id, or its secret there already) before any is stored, and
   * none is when one is bad, unless `skipBad`. A password for no account of the import is refused
   * (a mistyped id would otherwise leave its account without it).
   */
  async importAccounts(
    rows: { line: number; values: Record<string, unknown> }[],
    passwords: ReadonlyMap<string, Secret>,
    options: { skipBad?: boolean } = {},
  ): Promise<{ imported: string[]; bad: { line: number; field: string; message: string }[] }> {
    const good: CheckedAccount[] = [];
    const bad: { line: number; field: string; message: string }[] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      try {
        const checked = await this.#checkedAccount(row.values, { mustNotExist: true, passwordOf: (id) => passwords.get(id) });
        if (seen.has(checked.account.id)) throw new InvalidConfigurationError('id', `"${checked.account.id}" appears twice in the import`);
        seen.add(checked.account.id);
        good.push(checked);
      } catch (e) {
        if (!(e instanceof InvalidConfigurationError)) throw e;
        bad.push({ line: row.line, field: e.field, message: e.message });
      }
    }
    const stray = [...passwords.keys()].find((id) => !seen.has(id) && !rows.some((r) => r.values.id === id || `${String(r.values.resourceId)}/${String(r.values.username)}` === id));
    if (stray !== undefined) throw new InvalidConfigurationError('passwords', `hold a password for "${stray}", which is no account of the import`);
    if (bad.length && !options.skipBad) return { imported: [], bad };
    for (const g of good) await this.#storeAccount(g);
    return { imported: good.map((g) => g.account.id), bad };
  }

  /**
   * Stores a standalone secret (a key file, a client secret, an SSH private key) that resources
   * name by id: creates it tagged as rpr's (so the deployment's functions may read it), or puts a
   * new value as its AWSCURRENT. Returns whether it was created.
   */
  async putSecret(secretId: string, value: Secret): Promise<{ created: boolean }> {
    const parsed = secretIdSchema.safeParse(secretId);
    if (!parsed.success) throw new InvalidConfigurationError('secretId', parsed.error.issues[0]!.message);
    if (value.length === 0) throw new InvalidConfigurationError('value', 'is empty');
    const exists = await this.credentials.listVersions(secretId).then(
      () => true,
      (e: unknown) => {
        if (e instanceof NotFoundError) return false;
        throw e;
      },
    );
    if (!exists) {
      await this.credentials.createSecret(secretId, value, { description: 'rpr: a standalone secret', tags: { 'rpr:managed': 'true', 'rpr:secret': secretId } });
      return { created: true };
    }
    const versionId = randomUUID();
    await this.credentials.putPending(secretId, versionId, value);
    await this.credentials.promote(secretId, versionId);
    await this.credentials.discardPending(secretId, versionId);
    return { created: false };
  }

  async removeAccount(id: string, options: { deleteSecret?: boolean } = {}): Promise<void> {
    const account = await this.state.getAccount(id);
    if (!account) throw new NotFoundError('id', `account "${id}" does not exist`);
    await this.state.deleteAccount(id);
    if (options.deleteSecret) await this.credentials.deleteSecret(account.secretId);
  }

  /**
   * Imports many resources, each row merged over one shared configuration. Every row is
   * validated first; with any bad row nothing is imported unless `skipBad` is set.
   */
  async importResources(
    rows: { line: number; values: Record<string, unknown> }[],
    shared: Record<string, unknown>,
    options: { skipBad?: boolean } = {},
  ): Promise<{ imported: string[]; bad: { line: number; field: string; message: string }[] }> {
    const good: StoredResource[] = [];
    const bad: { line: number; field: string; message: string }[] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      try {
        const resource = await this.#checked(mergeDeep(shared, row.values));
        if (seen.has(resource.id)) throw new InvalidConfigurationError('id', `"${resource.id}" appears twice in the import`);
        seen.add(resource.id);
        good.push(resource);
      } catch (e) {
        if (!(e instanceof InvalidConfigurationError)) throw e;
        bad.push({ line: row.line, field: e.field, message: e.message });
      }
    }
    if (bad.length && !options.skipBad) return { imported: [], bad };
    for (const r of good) await this.state.putResource(r);
    return { imported: good.map((r) => r.id), bad };
  }
}

/** Merges plain objects key by key; arrays and other values in `over` replace those in `base`. */
export function mergeDeep(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? mergeDeep(b, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
