// The engine as the adapter contract drives it: in-memory stores, the Configurator, the
// ResetEngine and the RotationRunner, with the fixture's adapter counted and every password and
// log kept for the leak search. Used by adapter.ts only.
import { Configurator } from '../../layers/engine/configure.js';
import { ResetEngine, type Selector } from '../../layers/engine/engine.js';
import type { AdapterFactory, TargetAdapter } from '../../layers/engine/adapter.js';
import { Log } from '../../layers/engine/log.js';
import { Secret } from '../../layers/engine/secret.js';
import { openResourceSession, type AdapterRegistry, type ResourceSession } from '../../layers/engine/session.js';
import { openMemoryStores } from '../../layers/engine/stores/embedded.js';
import { AWSCURRENT } from '../../layers/engine/stores/types.js';
import type { Account } from '../../layers/engine/types.js';
import { RotationRunner, type RotationStep } from '../../layers/workflow/rotation.js';
import { REGISTRY } from '../../layers/resources/registry.js';
import type { FaultProxy } from '../servers/proxy.js';
import { captureOutput, recordingStore } from '../support/leaks.js';
import type { AdapterFixture, Mode } from './adapter.js';

const TIMEOUT_MS = 10_000;
/** How long a held change waits before it goes on (the concurrency case). */
const HOLD_MS = 1_000;

export type ContractHarness = Awaited<ReturnType<typeof openContractHarness>>;

/** A JSON replacer that writes a Secret's value (the holder's raw value: toJSON has already hidden it). */
function revealing(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Secret ? raw.reveal() : typeof value === 'bigint' ? String(value) : value;
}

export async function openContractHarness(fixture: AdapterFixture) {
  const stores = await openMemoryStores();
  const { store: credentials, written } = recordingStore(stores.credentials);
  // Every argument given to the state store (items, conditions, marks, leases), for the leak search;
  // a Secret among them shows its value, so that it is found.
  const stateWrites: string[] = [];
  const state = new Proxy(stores.state, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        stateWrites.push(JSON.stringify(args, revealing) ?? '');
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const loader = REGISTRY.typeOf(fixture.type).adapter;
  const real = (await loader()) as AdapterFactory<{ id: string }>;

  // The fixture's adapter, counting the changes asked of it per resource (and holding them on request).
  const changes = new Map<string, number>();
  /** The distinct new passwords asked of each resource's adapter (a repeatable change sent twice is one). */
  const changedTo = new Map<string, Set<string>>();
  const holding = new Set<string>();
  const opened = new Map<string, number>();
  const counted: AdapterFactory<{ id: string }> = (ctx) => {
    const adapter = real(ctx);
    const id = ctx.resource.id;
    opened.set(id, (opened.get(id) ?? 0) + 1);
    return new Proxy(adapter, {
      get(target, prop) {
        if (prop === 'change') {
          return async (req: Parameters<TargetAdapter['change']>[0]) => {
            changes.set(id, (changes.get(id) ?? 0) + 1);
            changedTo.set(id, (changedTo.get(id) ?? new Set()).add(req.newPassword.reveal()));
            if (holding.has(id)) await new Promise((r) => setTimeout(r, HOLD_MS));
            return target.change(req);
          };
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
  const adapters: AdapterRegistry = { [fixture.type]: counted as AdapterFactory<never> };
  const log = new Log({ level: 'DEBUG' });
  const engine = new ResetEngine({ registry: REGISTRY, state, credentials, adapters, log, timeoutMs: TIMEOUT_MS, concurrency: 2 });
  const config = new Configurator(state, credentials, REGISTRY);
  for (const [secretId, value] of Object.entries(fixture.secrets?.() ?? {})) await config.putSecret(secretId, new Secret(value));
  const rotation = new RotationRunner({
    stores: { state, credentials, describeSecret: async (id) => ({ arn: id, name: id }) },
    registry: REGISTRY,
    adapters,
    log,
    leaseTtlMs: 5 * 60_000,
    timeoutMs: TIMEOUT_MS,
    now: () => new Date(),
  });

  const logs: string[] = [];
  const errors: string[] = [];
  const runIds: string[] = [];
  /** Passwords the suite gave an adapter directly (the stores never saw them). */
  const sent = new Set<string>();
  const cleanups: (() => Promise<unknown>)[] = [];
  const bytes = new WeakMap<FaultProxy, { n: number }>();
  let resources = 0;
  let secrets = 0;
  let admin: { username: string; password: string } | undefined;

  // One capture however many calls overlap (two runs at once), so none restores another's.
  let capture: { out: ReturnType<typeof captureOutput>; depth: number } | undefined;
  async function captured<T>(fn: () => Promise<T>): Promise<T> {
    capture ??= { out: captureOutput(), depth: 0 };
    const mine = capture;
    mine.depth++;
    try {
      return await fn();
    } catch (e) {
      errors.push(`${(e as Error).name}: ${(e as Error).message}\n${(e as Error).stack ?? ''}`);
      throw e;
    } finally {
      if (--mine.depth === 0) {
        mine.out.restore();
        logs.push(mine.out.text());
        capture = undefined;
      }
    }
  }

  async function createAccount(password: string, options: { admin?: boolean; username?: string } = {}): Promise<string> {
    const username = await fixture.createAccount(password, options);
    cleanups.push(() => fixture.dropAccount(username));
    return username;
  }

  async function addAccount(resourceId: string, username: string, password: string): Promise<Account> {
    return config.putAccount({ resourceId, username, secretId: `contract/${resourceId}/${++secrets}` }, { password: new Secret(password) });
  }

  const h = {
    stores,
    credentials,
    written,
    sent,
    errors,
    createAccount,
    addAccount,
    /** The AWSCURRENT value of a secret. */
    async current(secretId: string): Promise<string> {
      return (await credentials.getValue(secretId, { stage: AWSCURRENT })).value.reveal();
    },
    /**
     * A new resource through `proxy` with one new account on the target (created with
     * `password`), in `mode`: with the suite's admin login as an account of it, or the account
     * as its own login.
     */
    async resourceWithAccount(mode: Mode, proxy: FaultProxy, password: string, options: { plaintext?: boolean } = {}): Promise<{ resourceId: string; account: Account }> {
      const resourceId = `c${++resources}`;
      if (mode === 'admin') {
        const adminPassword = `Contract-admin-${Math.random().toString(36).slice(2, 10)}-Aa1!`;
        admin ??= { username: await createAccount(adminPassword, { admin: true }), password: adminPassword };
      }
      const username = await createAccount(password);
      // Standalone secrets the resource names (an access key pair, an API key), stored as an operator would; they join the leak search.
      for (const [secretId, value] of Object.entries(fixture.secrets?.() ?? {})) {
        sent.add(value);
        await config.putSecret(secretId, new Secret(value));
      }
      const login = mode === 'admin' ? admin!.username : username;
      await config.putResource({ ...fixture.resource({ id: resourceId, mode, at: { host: proxy.host, port: proxy.port }, loginAccountId: `${resourceId}/${login}`, plaintext: options.plaintext ?? false }), id: resourceId });
      if (mode === 'admin') await addAccount(resourceId, admin!.username, admin!.password);
      return { resourceId, account: await addAccount(resourceId, username, password) };
    },
    /** An engine run, its logs captured; its record and the accounts' results. */
    async run(selector: Selector) {
      return captured(async () => {
        const record = await engine.run(selector);
        runIds.push(record.runId);
        return { record, results: await stores.state.listAccountResults(record.runId) };
      });
    },
    /** One rotation step as Secrets Manager invokes it. */
    async rotate(step: RotationStep, secretId: string, token: string): Promise<void> {
      runIds.push(`rotation:${token}`);
      await captured(() => rotation.run({ step, secretId, token }));
    },
    /** Runs `fn` on the resource's session as the engine opens it (guarded adapter, redactor, policy), its logs captured. */
    withSession<T>(resourceId: string, fn: (session: ResourceSession) => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
      return captured(async () => {
        const session = await openResourceSession({ state, credentials, registry: REGISTRY, adapters, log, timeoutMs: options.timeoutMs ?? TIMEOUT_MS }, resourceId);
        try {
          return await fn(session);
        } finally {
          await session.close();
        }
      });
    },
    /** Changes asked of the adapter of this resource so far. */
    changes(resourceId: string): number {
      return changes.get(resourceId) ?? 0;
    },
    /** Adapters (sessions) opened for this resource so far. */
    adaptersOpened(resourceId: string): number {
      return opened.get(resourceId) ?? 0;
    },
    /** Distinct passwords the adapter of this resource was asked to set so far. */
    distinctChanges(resourceId: string): number {
      return changedTo.get(resourceId)?.size ?? 0;
    },
    /** Runs `fn` with this resource's changes held for a moment before they go on. */
    async holdingChanges<T>(resourceId: string, fn: () => Promise<T>): Promise<T> {
      holding.add(resourceId);
      try {
        return await fn();
      } finally {
        holding.delete(resourceId);
      }
    },
    /** Bytes clients sent through the proxy since the first call for it. */
    bytesSent(proxy: FaultProxy): number {
      let count = bytes.get(proxy);
      if (!count) {
        const c = { n: 0 };
        proxy.onClientData((chunk) => (c.n += chunk.length));
        bytes.set(proxy, c);
        count = c;
      }
      return count.n;
    },
    /** Everything the product wrote, by where, for the leak search. */
    async everything(): Promise<Record<string, string>> {
      const results = (await Promise.all(runIds.map((id) => stores.state.listAccountResults(id)))).flat();
      const items = { resources: await stores.state.listResources(), accounts: await stores.state.listAccounts(), runs: await stores.state.listRuns(1000) };
      return {
        logs: logs.join('\n'),
        errors: errors.join('\n'),
        results: JSON.stringify(results),
        audit: JSON.stringify(await stores.state.listAudit({ limit: 10_000 })),
        'state items': JSON.stringify(items),
        'state store requests': stateWrites.join('\n'),
      };
    },
    async close(): Promise<void> {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
      await stores.close();
    },
  };
  return h;
}
