import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AdapterFactory, ChangeRequest } from '../../../layers/engine/adapter.js';
import { Configurator } from '../../../layers/engine/configure.js';
import { InvalidConfigurationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Log } from '../../../layers/engine/log.js';
import { REDACTED, Redactor } from '../../../layers/engine/redact.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openResourceSession } from '../../../layers/engine/session.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const ADMIN = 'Admin-pw-0123';
const NEW = 'New-pw-\u00e9\u00df-4567"\\';
const CURRENT = 'Current-pw-8910';

describe('guarded(): the one choke point where every error leaving an adapter is redacted', () => {
  let stores: EmbeddedStores;
  let thrown: unknown[];
  beforeEach(async () => {
    stores = await openMemoryStores();
    thrown = [];
    const config = new Configurator(stores.state, stores.credentials, REGISTRY);
    await config.putResource({ id: 'db1', type: 'postgresql', host: 'db1.example', adminAccount: 'db1/admin' });
    await config.putAccount({ resourceId: 'db1', username: 'admin', secretId: 's/admin' }, { password: new Secret(ADMIN) });
    await config.putAccount({ resourceId: 'db1', username: 'app', secretId: 's/app' }, { password: new Secret(CURRENT) });
  });
  afterEach(async () => stores.close());

  /** An adapter that puts every secret it was given into what it returns and throws. */
  const leaky = (fault: (req: ChangeRequest, admin: string) => unknown): AdapterFactory<never> => (ctx) => ({
    type: 'postgresql',
    verification: 'login',
    change: async (req) => {
      const e = fault(req, ctx.credentials.admin!.password!.reveal());
      thrown.push(e);
      throw e;
    },
    verify: async (req) => ({ valid: false, detail: `refused ${req.password.reveal()} for ${ctx.credentials.admin!.password!.reveal()}` }),
    close: async () => undefined,
  });
  const open = (factory: AdapterFactory<never>) =>
    openResourceSession({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, adapters: { postgresql: factory }, log: new Log({ level: 'SILENT' }), timeoutMs: 1000 }, 'db1');
  const change = async (factory: AdapterFactory<never>) => {
    const session = await open(factory);
    const account = (await stores.state.getAccount('db1/app'))!;
    return session.adapter.change({ account, newPassword: new Secret(NEW), currentPassword: new Secret(CURRENT) }).then(
      () => undefined,
      (e: unknown) => e as Error & { field?: string },
    );
  };
  const clean = (text: string) => [ADMIN, NEW, CURRENT, JSON.stringify(NEW).slice(1, -1)].every((s) => !text.includes(s));

  it('redacts the new, current and admin passwords from a typed error, keeping its class and field, in a copy', async () => {
    const e = await change(leaky((req, admin) => new InvalidConfigurationError('policy', `server said: ${req.newPassword.reveal()} / ${req.currentPassword!.reveal()} / ${admin}`)));
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect(e?.field).toBe('policy');
    expect(clean(`${e!.message}\n${e!.stack}`)).toBe(true);
    expect(e!.message).toContain(REDACTED);
    // The adapter's own error is not rewritten behind its back.
    expect(e).not.toBe(thrown[0]);
    expect((thrown[0] as Error).message).toContain(NEW);
  });

  it('an unexpected error from change becomes OutcomeUnknownError, its cause redacted too, in JSON-escaped form as well', async () => {
    const e = await change(leaky((req) => new Error('driver failed', { cause: new Error(`after ${JSON.stringify({ sql: `ALTER ... '${req.newPassword.reveal()}'` })}`) })));
    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect(clean(JSON.stringify({ message: e!.message, cause: String((e!.cause as Error).cause) }))).toBe(true);
    expect(String(((e!.cause as Error).cause as Error).message)).toContain(REDACTED);
  });

  it('a thrown string is an Error, redacted', async () => {
    const e = await change(leaky((req) => `plain ${req.newPassword.reveal()}`));
    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect(clean(e!.message)).toBe(true);
  });

  it("redacts a verify result's detail", async () => {
    const session = await open(leaky(() => new TargetUnchangedError('x')));
    const result = await session.adapter.verify({ account: (await stores.state.getAccount('db1/app'))!, password: new Secret(NEW) });
    expect(result.valid).toBe(false);
    expect(clean(result.detail!)).toBe(true);
  });

  it("passes preflight through, redacting each finding's detail and the errors it throws", async () => {
    const withPreflight = (fail: boolean): AdapterFactory<never> => (ctx) => ({
      ...leaky(() => new TargetUnchangedError('x'))(ctx),
      preflight: async (req) => {
        const admin = ctx.credentials.admin!.password!.reveal();
        if (fail) throw new Error(`could not connect as ${admin}`);
        return [{ accountId: req.accounts[0]!.id, check: 'role exists', ok: false, detail: `refused ${admin}` }];
      },
    });
    const account = (await stores.state.getAccount('db1/app'))!;
    const findings = await (await open(withPreflight(false))).adapter.preflight!({ accounts: [account] });
    expect(findings).toEqual([{ accountId: 'db1/app', check: 'role exists', ok: false, detail: `refused ${REDACTED}` }]);
    const e = await (await open(withPreflight(true))).adapter.preflight!({ accounts: [account] }).catch((x: unknown) => x as Error);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect(clean((e as Error).message)).toBe(true);
    expect((await open(leaky(() => new TargetUnchangedError('x')))).adapter.preflight).toBeUndefined();
  });

  it('redactedCopy leaves the original, copies own fields, and survives a circular cause', () => {
    const r = new Redactor([NEW]);
    const original = new TargetUnchangedError(`bad ${NEW}`) as TargetUnchangedError & { loop?: unknown; code?: string };
    original.code = `code ${NEW}`;
    original.loop = original;
    const copy = r.redactedCopy(original) as typeof original;
    expect(copy).toBeInstanceOf(TargetUnchangedError);
    expect(copy.message).toBe(`bad ${REDACTED}`);
    expect(copy.code).toBe(`code ${REDACTED}`);
    expect(original.message).toBe(`bad ${NEW}`);
  });

  it('redactedCopy of an error caused by a DOMException (fetch\'s TimeoutError) can be inspected and keeps its name', () => {
    // What AbortSignal.timeout() aborts fetch with.
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const copy = new Redactor([NEW]).redactedCopy(new TargetUnchangedError(`no answer ${NEW}`, { cause: timeout }));
    const text = inspect(copy, { depth: 5, showHidden: true });
    expect(text).toContain('TimeoutError');
    expect(text).not.toContain(NEW);
    expect((copy.cause as Error).name).toBe('TimeoutError');
  });
});
