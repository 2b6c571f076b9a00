import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';

describe('rpr init on the embedded store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-init-'));
  const store = join(dir, 'store');
  const rpr = async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', store, ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => '' });
    return { code, stdout, stderr };
  };
  beforeAll(() => {
    process.env.RPR_VAULT_KEY = Buffer.alloc(32, 7).toString('base64');
  });
  afterAll(() => {
    delete process.env.RPR_VAULT_KEY;
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the store folder and says where; a second init opens it; the store then works', async () => {
    const first = await rpr(['init']);
    expect(first).toMatchObject({ code: EXIT.ok, stdout: `created the embedded store in ${store}\n` });
    expect(existsSync(store)).toBe(true);
    const again = await rpr(['--json', 'init']);
    expect(again.code).toBe(EXIT.ok);
    expect(JSON.parse(again.stdout)).toEqual({ store: 'embedded', dataDir: store, created: false });
    expect((await rpr(['resource', 'add', '--type', 'linux', '--id', 'web1', '--host', '10.0.0.5', '--login', 'web1/ops'])).code).toBe(EXIT.ok);
  });
});
