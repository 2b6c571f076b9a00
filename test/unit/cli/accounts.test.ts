// `rpr account add` derives a valid secret id from any valid user name, a DN included, so a user
// never sees an error about a field they did not give; two names never share one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSecretId } from '../../../cli/accounts.js';
import { EXIT, runCli } from '../../../cli/program.js';
import { secretIdSchema } from '../../../layers/engine/stores/types.js';

describe('rpr account add', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-cli-accounts-'));
  const rpr = async (args: string[], stdin = '') => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', join(dir, 'store'), ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => stdin });
    return { code, stdout, stderr };
  };
  beforeAll(() => {
    process.env.RPR_VAULT_KEY = Buffer.alloc(32, 5).toString('base64');
  });
  afterAll(() => {
    delete process.env.RPR_VAULT_KEY;
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives a DN a valid default secret id that keeps its readable parts', async () => {
    const res = await rpr(['resource', 'add', '--type', 'ldap', '--id', 'dir1', '--host', 'ldap.example', '--set', 'serverType=openldap', '--set', 'baseDn=dc=corp,dc=example']);
    expect(res.code, res.stderr).toBe(EXIT.ok);
    const dn = String.raw`cn=O'Brien\, Mary \"M\",ou=People,dc=corp,dc=example`;
    const r = await rpr(['--json', 'account', 'add', '--resource', 'dir1', '--username', dn, '--password-stdin'], 'Start-Pass-01\n');
    expect(r.code, r.stderr).toBe(EXIT.ok);
    const added = JSON.parse(r.stdout) as { secretId: string; username: string };
    expect(added.username).toBe(dn);
    expect(added.secretId).toMatch(/^rpr\/dir1\/cn=O-Brien-Mary-M-ou=People-dc=corp-dc=example-[0-9a-f]{12}$/);
    expect(secretIdSchema.safeParse(added.secretId).success).toBe(true);
  });

  it('keeps a plain name as it was, and never gives two names one secret', () => {
    expect(defaultSecretId('db1', 'app_user')).toBe('rpr/db1/app_user');
    const a = defaultSecretId('d', 'cn=a b,dc=x');
    const b = defaultSecretId('d', 'cn=a,b,dc=x');
    expect(a).not.toBe(b);
    for (const name of ['ünïcode', '   ', 'cn=x\\,y', 'a'.repeat(300) + ' b']) {
      const id = defaultSecretId('d', name);
      expect(secretIdSchema.safeParse(id).success, `${name} -> ${id}`).toBe(true);
    }
  });
});
