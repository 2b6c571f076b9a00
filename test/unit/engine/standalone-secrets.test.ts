import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';
import type { AdapterContext } from '../../../layers/engine/adapter.js';
import { Configurator } from '../../../layers/engine/configure.js';
import { InvalidConfigurationError } from '../../../layers/engine/errors.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openResourceSession } from '../../../layers/engine/session.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT, AWSPREVIOUS } from '../../../layers/engine/stores/types.js';
import type { TypeRegistry } from '../../../layers/engine/types.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const log = new Log({ level: 'SILENT' });
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-not-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n';
const CLIENT_SECRET = 'cs~0123456789abcdefghij.KLMNOP';

/** The real registry, but with `aws-iam` given an adapter that keeps the context it was handed. */
function registryWithProbe(seen: AdapterContext<unknown>[]): TypeRegistry {
  return {
    ...REGISTRY,
    typeOf: (type, field) => {
      const t = REGISTRY.typeOf(type, field);
      if (t.type !== 'aws-iam' && t.type !== 'linux') return t;
      return {
        ...t,
        adapter: async () => (ctx: AdapterContext<unknown>) => {
          seen.push(ctx);
          return {
            type: t.type,
            verification: t.verification,
            change: async () => {
              // An adapter that lets a secret slip into its error: the session's redactor catches it.
              throw new Error(`provider said: bad client ${ctx.secrets.credentials?.reveal() ?? ''} / ${ctx.credentials.login?.privateKey?.reveal() ?? ''}`);
            },
            verify: async () => ({ valid: false }),
            close: async () => undefined,
          };
        },
      };
    },
  };
}

describe('standalone secrets: declared by the type, checked when configured, handed to the adapter, redacted', () => {
  let stores: EmbeddedStores;
  let config: Configurator;
  beforeEach(async () => {
    stores = await openMemoryStores();
    config = new Configurator(stores.state, stores.credentials, REGISTRY);
  });
  afterEach(async () => stores.close());

  const iam = { id: 'aws1', type: 'aws-iam', credentialsSecretId: 'rpr/aws1/admin-key' };

  it('refuses a resource naming a secret that does not exist, by its field, and stores nothing', async () => {
    const e = await config.putResource(iam).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('credentialsSecretId');
    expect((e as Error).message).toMatch(/rpr secret put rpr\/aws1\/admin-key/);
    expect(await stores.state.getResource('aws1')).toBeUndefined();
    // The same for a bulk import: the row is bad, nothing is imported.
    const imported = await config.importResources([{ line: 2, values: { id: 'aws2' } }], { type: 'aws-iam', credentialsSecretId: 'rpr/missing' });
    expect(imported).toEqual({ imported: [], bad: [{ line: 2, field: 'credentialsSecretId', message: expect.stringMatching(/does not exist/) }] });
  });

  it('accepts it once stored; a second put makes the new value AWSCURRENT and keeps the old as AWSPREVIOUS', async () => {
    expect(await config.putSecret('rpr/aws1/admin-key', new Secret('{"accessKeyId":"AKIA1","secretAccessKey":"one"}'))).toEqual({ created: true });
    await config.putResource(iam);
    expect(await config.putSecret('rpr/aws1/admin-key', new Secret('{"accessKeyId":"AKIA2","secretAccessKey":"two"}'))).toEqual({ created: false });
    expect((await stores.credentials.getValue('rpr/aws1/admin-key', { stage: AWSCURRENT })).value.reveal()).toContain('AKIA2');
    expect((await stores.credentials.getValue('rpr/aws1/admin-key', { stage: AWSPREVIOUS })).value.reveal()).toContain('AKIA1');
    const stages = (await stores.credentials.listVersions('rpr/aws1/admin-key')).flatMap((v) => v.stages);
    expect(stages.sort()).toEqual([AWSCURRENT, AWSPREVIOUS]);
  });

  it('refuses a malformed secret id or an empty value by name', async () => {
    await expect(config.putSecret('bad id with spaces', new Secret('x'))).rejects.toMatchObject({ field: 'secretId' });
    await expect(config.putSecret('rpr/ok', new Secret(''))).rejects.toMatchObject({ field: 'value' });
  });

  it('are loaded with the session, handed to the adapter by name (a private key to its login too), and redacted from its errors', async () => {
    const seen: AdapterContext<unknown>[] = [];
    const registry = registryWithProbe(seen);
    await config.putSecret('rpr/aws1/admin-key', new Secret(CLIENT_SECRET));
    await config.putResource(iam);
    await config.putSecret('rpr/host1/key', new Secret(KEY));
    await config.putResource({ id: 'host1', type: 'linux', host: 'host1.example', login: { account: 'host1/rpr' }, auth: 'key', privateKeySecret: 'rpr/host1/key' });
    await config.putAccount({ resourceId: 'host1', username: 'rpr', secretId: 'rpr/host1/rpr' }, { password: new Secret('login-pw-1') });
    await config.putAccount({ resourceId: 'aws1', username: 'alice', secretId: 'rpr/aws1/alice' }, { password: new Secret('alice-pw-1') });

    const deps = { registry, state: stores.state, credentials: stores.credentials, log, timeoutMs: 1000 };
    const aws = await openResourceSession(deps, 'aws1');
    expect(seen[0]!.secrets.credentials?.reveal()).toBe(CLIENT_SECRET);
    const account = (await stores.state.getAccount('aws1/alice'))!;
    const error = await aws.adapter.change({ account, newPassword: new Secret('new-pw-2') }).then(() => new Error("no error"), (e: unknown) => e as Error);
    expect(error.message).toMatch(/provider said: bad client/);
    expect(error.message).not.toContain(CLIENT_SECRET);

    const host = await openResourceSession(deps, 'host1');
    expect(seen[1]!.secrets.privateKey?.reveal()).toBe(KEY);
    expect(seen[1]!.credentials.login?.privateKey?.reveal()).toBe(KEY);
    const hostError = await host.adapter.change({ account: (await stores.state.getAccount('host1/rpr'))!, newPassword: new Secret('new-pw-3') }).then(() => new Error("no error"), (e: unknown) => e as Error);
    expect(hostError.message).not.toContain('not-a-real-key');
  });

  it('a secret deleted after the resource was configured is refused when the session opens, by its field', async () => {
    await config.putSecret('rpr/aws1/admin-key', new Secret(CLIENT_SECRET));
    await config.putResource(iam);
    await stores.credentials.deleteSecret('rpr/aws1/admin-key');
    const deps = { registry: registryWithProbe([]), state: stores.state, credentials: stores.credentials, log, timeoutMs: 1000 };
    await expect(openResourceSession(deps, 'aws1')).rejects.toMatchObject({ name: 'InvalidConfigurationError', field: 'credentialsSecretId' });
  });
});

describe('rpr secret put on the embedded store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-secret-cli-'));
  beforeAll(() => {
    process.env.RPR_VAULT_KEY = Buffer.alloc(32, 9).toString('base64');
  });
  afterAll(() => {
    delete process.env.RPR_VAULT_KEY;
    rmSync(dir, { recursive: true, force: true });
  });
  const rpr = async (args: string[], stdin = '') => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', join(dir, 'store'), ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => stdin });
    return { code, stdout, stderr };
  };

  it('stores a secret from standard input or a file, never prints it, and lets a resource name it', async () => {
    const refused = await rpr(['resource', 'add', '--type', 'aws-iam', '--id', 'aws1', '--set', 'credentialsSecretId=rpr/aws1/key']);
    expect(refused.code).toBe(EXIT.badInput);
    expect(refused.stderr).toMatch(/credentialsSecretId/);

    const put = await rpr(['--json', 'secret', 'put', 'rpr/aws1/key'], `${CLIENT_SECRET}\n`);
    expect(put.code, put.stderr).toBe(EXIT.ok);
    expect(JSON.parse(put.stdout)).toEqual({ secretId: 'rpr/aws1/key', created: true });
    expect(put.stdout + put.stderr).not.toContain(CLIENT_SECRET);
    expect((await rpr(['resource', 'add', '--type', 'aws-iam', '--id', 'aws1', '--set', 'credentialsSecretId=rpr/aws1/key'])).code).toBe(EXIT.ok);

    const file = join(dir, 'id_ed25519');
    writeFileSync(file, KEY);
    const fromFile = await rpr(['secret', 'put', 'rpr/host1/key', '--file', file]);
    expect(fromFile.code, fromFile.stderr).toBe(EXIT.ok);
    expect(fromFile.stdout).toBe('created secret rpr/host1/key\n');
    const again = await rpr(['secret', 'put', 'rpr/host1/key', '--file', file]);
    expect(again.stdout).toBe('updated secret rpr/host1/key\n');
  });

  it('refuses empty input and an unreadable file by name, storing nothing', async () => {
    const empty = await rpr(['secret', 'put', 'rpr/empty'], '\n');
    expect(empty.code).toBe(EXIT.badInput);
    expect(empty.stderr).toMatch(/stdin/);
    const missing = await rpr(['secret', 'put', 'rpr/nofile', '--file', join(dir, 'absent')]);
    expect(missing.code).toBe(EXIT.badInput);
    expect(missing.stderr).toMatch(/--file/);
    expect((await rpr(['resource', 'add', '--type', 'aws-iam', '--id', 'aws9', '--set', 'credentialsSecretId=rpr/empty'])).code).toBe(EXIT.badInput);
  });
});
