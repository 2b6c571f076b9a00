import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';

describe('rpr verify and rpr reset --dry-run refuse bad input before anything runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-verify-'));
  async function rpr(args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', join(dir, 'store'), ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => '' });
    return { code, stdout, stderr };
  }
  beforeAll(() => {
    process.env.RPR_VAULT_KEY = Buffer.alloc(32, 5).toString('base64');
  });
  afterAll(() => {
    delete process.env.RPR_VAULT_KEY;
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [['verify'], 'selector: name accounts to verify'],
    [['reset', '--dry-run'], 'selector: name accounts to reset'],
    [['verify', '--all', '--concurrency', '0'], '--concurrency: must be a positive integer'],
    [['verify', '--resource', 'nosuch'], 'resourceIds: resource "nosuch" does not exist'],
    [['reset', '--dry-run', '--account', 'db1/nobody'], 'accountIds: account "db1/nobody" does not exist'],
  ])('%j exits 2 naming the field (%s) and records no run', async (args, message) => {
    const r = await rpr(args);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toContain(`error: ${message}`);
    expect(JSON.parse((await rpr(['--json', 'runs'])).stdout)).toEqual([]);
  });

  it('with nothing configured, verify --all verifies no account and exits 0', async () => {
    const r = await rpr(['--json', 'verify', '--all']);
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'verify', status: 'succeeded', counts: { total: 0 }, results: [] });
  });
});
