import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';
import { openEmbeddedStores } from '../../../layers/engine/stores/embedded.js';

const VAULT_KEY = Buffer.alloc(32, 5);
const FP_A = Buffer.alloc(32, 0xa1).toString('base64').replace(/=+$/, '');
const FP_B = Buffer.alloc(32, 0xb2).toString('base64').replace(/=+$/, '');

/** `rpr resource trust-host-key` where no server is needed: --sha256, and every refusal. */
describe('rpr resource trust-host-key on the embedded store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-trust-'));
  const storeDir = join(dir, 'store');
  const saved = process.env.RPR_VAULT_KEY;
  const rpr = async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', storeDir, ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => '' });
    return { code, stdout, stderr };
  };
  const recorded = async (id: string) => {
    const s = await openEmbeddedStores({ dir: storeDir, vaultKey: VAULT_KEY });
    try {
      return await s.state.getHostKey(id);
    } finally {
      await s.close();
    }
  };

  beforeAll(async () => {
    process.env.RPR_VAULT_KEY = VAULT_KEY.toString('base64');
    const add = (id: string, ...rest: string[]) => rpr(['resource', 'add', '--id', id, '--host', '192.0.2.10', ...rest]);
    for (const r of [
      await add('web1', '--type', 'linux', '--set', 'login.account=web1/ops'),
      await add('tel1', '--type', 'linux', '--set', 'login.account=tel1/ops', '--set', 'protocol=telnet'),
      await add('pin1', '--type', 'linux', '--set', 'login.account=pin1/ops', '--set', `hostKeySha256=${FP_A}`),
      await add('db1', '--type', 'postgresql'),
      await add('win1', '--type', 'windows', '--set', 'adminAccount=win1/Administrator'),
    ]) {
      expect(r.code, r.stderr).toBe(EXIT.ok);
    }
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.RPR_VAULT_KEY;
    else process.env.RPR_VAULT_KEY = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a given fingerprint (with or without "SHA256:" and padding), says so in JSON, and changes nothing when it is the one recorded', async () => {
    const first = await rpr(['--json', 'resource', 'trust-host-key', 'web1', '--sha256', `SHA256:${FP_A}=`]);
    expect(first.code, first.stderr).toBe(EXIT.ok);
    expect(JSON.parse(first.stdout)).toMatchObject({ resourceId: 'web1', previous: null, presented: { sha256: FP_A }, changed: true, recorded: { sha256: FP_A, source: 'operator' } });
    expect(await recorded('web1')).toMatchObject({ resourceId: 'web1', sha256: FP_A, source: 'operator' });

    const same = await rpr(['resource', 'trust-host-key', 'web1', '--sha256', FP_A]);
    expect(same.code).toBe(EXIT.ok);
    expect(same.stdout).toContain('already trusted; nothing changed');

    const other = await rpr(['resource', 'trust-host-key', 'web1', '--sha256', FP_B]);
    expect(other.code).toBe(EXIT.ok);
    expect(other.stdout).toContain(`recorded:  SHA256:${FP_A}`);
    expect(other.stdout).toContain(`given:     SHA256:${FP_B}`);
    expect(await recorded('web1')).toMatchObject({ sha256: FP_B, source: 'operator', replaced: FP_A });

    const shown = await rpr(['resource', 'show', 'web1']);
    expect(shown.stdout).toContain(`SSH host key: SHA256:${FP_B}, accepted by an operator`);
    expect(JSON.parse((await rpr(['--json', 'resource', 'show', 'web1'])).stdout)).toMatchObject({ id: 'web1', hostKey: { sha256: FP_B } });
    expect(JSON.parse((await rpr(['--json', 'resource', 'show', 'db1'])).stdout)).not.toHaveProperty('hostKey');
  });

  it('works for a windows resource reached over OpenSSH', async () => {
    const r = await rpr(['resource', 'trust-host-key', 'win1', '--sha256', FP_B]);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect((await recorded('win1'))?.sha256).toBe(FP_B);
  });

  it.each([
    ['a resource that does not exist', ['nope', '--sha256', FP_A], 'id', 'nope'],
    ['a Telnet resource, which has no host key', ['tel1', '--sha256', FP_A], 'protocol', 'tel1'],
    ['a resource that does not connect over SSH', ['db1', '--sha256', FP_A], 'type', 'db1'],
    ['a resource whose configuration pins a key', ['pin1', '--sha256', FP_B], 'hostKeySha256', 'pin1'],
    ['a fingerprint that is not one', ['web1', '--sha256', 'SHA256:not-a-fingerprint'], '--sha256', 'web1'],
  ])('refuses %s with exit 2 naming the field, and records nothing', async (_what, args, field, id) => {
    const before = await recorded(id);
    const r = await rpr(['resource', 'trust-host-key', ...args]);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toMatch(new RegExp(`^error: ${field.replace(/[-]/g, '\\-')}: `));
    expect(await recorded(id)).toEqual(before);
  });
});
