// `rpr account add` derives a valid secret id from any valid user name, a DN included, so a user
// never sees an error about a field they did not give; two names never share one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

describe('rpr account import', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-cli-import-'));
  const rpr = async (args: string[], stdin = '') => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', join(dir, 'store'), ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => stdin });
    return { code, stdout, stderr };
  };
  beforeAll(async () => {
    process.env.RPR_VAULT_KEY = Buffer.alloc(32, 6).toString('base64');
    for (const id of ['db1', 'db2']) expect((await rpr(['resource', 'add', '--type', 'postgresql', '--id', id, '--host', `${id}.example`])).code).toBe(EXIT.ok);
  });
  afterAll(() => {
    delete process.env.RPR_VAULT_KEY;
    rmSync(dir, { recursive: true, force: true });
  });

  it('checks every row first: with a bad one it names its line and imports nothing; --skip-bad imports the rest; passwords never reach the output', async () => {
    const csv = join(dir, 'accounts.csv');
    writeFileSync(csv, 'resourceId,username,tags\ndb1,alice,team-a\ndb1,alice,\ndb9,carol,\ndb2,dave,team-a;team-b\n');
    const passwords = JSON.stringify({ 'db1/alice': 'Alice-Pass-01', 'db9/carol': 'Carol-Pass-01', 'db2/dave': 'Dave-Pass-01' });
    const refused = await rpr(['account', 'import', csv, '--passwords-stdin'], passwords);
    expect(refused.code).toBe(EXIT.badInput);
    expect(refused.stderr).toContain(`${csv}:3: id: "db1/alice" appears twice in the import`);
    expect(refused.stderr).toContain(`${csv}:4: resourceId: resource "db9" does not exist`);
    expect(refused.stderr).toMatch(/nothing imported: 2 of 4 rows are bad/);
    expect(JSON.parse((await rpr(['--json', 'account', 'list'])).stdout)).toEqual([]);

    const partial = await rpr(['--json', 'account', 'import', csv, '--passwords-stdin', '--skip-bad'], passwords);
    expect(partial.code).toBe(EXIT.partial);
    expect(JSON.parse(partial.stdout).imported).toEqual(['db1/alice', 'db2/dave']);
    const list = JSON.parse((await rpr(['--json', 'account', 'list'])).stdout) as { id: string; secretId: string; tags: string[] }[];
    expect(list).toMatchObject([{ id: 'db1/alice', secretId: 'rpr/db1/alice', tags: ['team-a'] }, { id: 'db2/dave', tags: ['team-a', 'team-b'] }]);
    for (const out of [refused, partial]) expect(out.stdout + out.stderr).not.toMatch(/Alice-Pass|Dave-Pass|Carol-Pass/);
  });

  it('from a passwords file; a row without a password needs its secret there already; a password for no row of the import is refused', async () => {
    const json = join(dir, 'more.json');
    writeFileSync(json, JSON.stringify([{ resourceId: 'db1', username: 'erin' }, { resourceId: 'db2', username: 'frank' }]));
    const file = join(dir, 'passwords.json');
    writeFileSync(file, JSON.stringify({ 'db1/erin': 'Erin-Pass-01' }));
    const missing = await rpr(['account', 'import', json, '--passwords', file]);
    expect(missing.code).toBe(EXIT.badInput);
    expect(missing.stderr).toContain(`${json}:2: secretId: secret "rpr/db2/frank" does not exist`);
    writeFileSync(file, JSON.stringify({ 'db1/erin': 'Erin-Pass-01', 'db2/frank': 'Frank-Pass-01', 'db2/frnak': 'Typo-Pass-01' }));
    const stray = await rpr(['account', 'import', json, '--passwords', file]);
    expect(stray.code).toBe(EXIT.badInput);
    expect(stray.stderr).toMatch(/passwords: hold a password for "db2\/frnak", which is no account of the import/);
    writeFileSync(file, '{"db1/erin": "Erin-Pass-01", oops');
    const broken = await rpr(['account', 'import', json, '--passwords', file]);
    expect(broken.stderr).toMatch(/--passwords: is not valid JSON/);
    expect(broken.stderr).not.toContain('Erin-Pass-01');
    writeFileSync(file, JSON.stringify({ 'db1/erin': 'Erin-Pass-01', 'db2/frank': 'Frank-Pass-01' }));
    expect((await rpr(['account', 'import', json, '--passwords', file])).code).toBe(EXIT.ok);
    expect(JSON.parse((await rpr(['--json', 'account', 'list', '--resource', 'db2'])).stdout).map((a: { id: string }) => a.id)).toEqual(['db2/dave', 'db2/frank']);
  });
});
