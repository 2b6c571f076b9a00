import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultAwsClients } from '../../../cli/aws.js';
import { EXIT, runCli } from '../../../cli/program.js';
import type { AdapterFactory } from '../../../layers/engine/adapter.js';
import { createWindowsDomainAdapter } from '../../../layers/resources/windows-domain/adapter.js';
import { describeServer } from '../../../harness/servers/index.js';
import { filesText, findLeaks } from '../../support/leaks.js';
import { bindWorks, createUser, deleteUser, freshPassword, makeDomainAdmin, setPasswordDirectly, VAULT_KEY, type TestUser } from './support.js';

/**
 * What an operator sees: `rpr reset` on a domain, then someone changes a password directly on the
 * domain controller; `rpr status` says which account was changed outside rpr, read from pwdLastSet
 * with the admin login (no login as the account), and which was not.
 */
describeServer('samba', 'rpr status reports passwords changed outside rpr (windows-domain, real Samba AD DC)', (info) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-ad-cli-'));
  const created: TestUser[] = [];
  const outputs: string[] = [];
  const passwords: string[] = [];

  async function rpr(args: string[], stdin = '') {
    let stdout = '';
    let stderr = '';
    const code = await runCli(
      ['--data-dir', join(dir, 'store'), ...args],
      { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => stdin },
      defaultAwsClients,
      { 'windows-domain': createWindowsDomainAdapter as AdapterFactory<never> },
    );
    outputs.push(stdout, stderr);
    return { code, stdout, stderr };
  }

  async function user(): Promise<{ u: TestUser; password: string }> {
    const password = freshPassword();
    passwords.push(password);
    const u = await createUser(info, password);
    created.push(u);
    return { u, password };
  }

  beforeAll(() => {
    process.env.RPR_VAULT_KEY = VAULT_KEY.toString('base64');
  });
  afterAll(async () => {
    delete process.env.RPR_VAULT_KEY;
    for (const u of created.reverse()) await deleteUser(info, u.dn);
    rmSync(dir, { recursive: true, force: true });
  });

  it('after a reset, a password changed directly on the DC shows as "changed outside rpr"; an untouched one as "none"', async () => {
    const admin = await user();
    await makeDomainAdmin(info, admin.u);
    const drifted = await user();
    const clean = await user();
    const resourceFile = join(dir, 'ad.json');
    writeFileSync(
      resourceFile,
      JSON.stringify({
        id: 'ad',
        type: 'windows-domain',
        host: info.host,
        domain: info.realm.toLowerCase(),
        port: info.ldapsPort,
        caCertificate: readFileSync(info.caFile, 'utf8'),
        adminAccount: `ad/${admin.u.sam}`,
      }),
    );
    expect((await rpr(['resource', 'add', '--file', resourceFile])).code).toBe(EXIT.ok);
    for (const t of [admin, drifted, clean]) {
      expect((await rpr(['account', 'add', '--resource', 'ad', '--username', t.u.sam, '--password-stdin'], `${t.password}\n`)).code).toBe(EXIT.ok);
    }

    const reset = await rpr(['--json', 'reset', '--account', `ad/${drifted.u.sam}`, '--account', `ad/${clean.u.sam}`]);
    expect(reset.code, reset.stderr + reset.stdout).toBe(EXIT.ok);
    const runId = (JSON.parse(reset.stdout) as { runId: string }).runId;
    // Beyond the tolerance of a few seconds between the recorded reset and pwdLastSet.
    await new Promise((r) => setTimeout(r, 6_500));
    const outside = freshPassword();
    passwords.push(outside);
    await setPasswordDirectly(info, drifted.u.dn, outside);
    expect(await bindWorks(info, drifted.u.upn, outside)).toBe(true);

    const status = await rpr(['--json', 'status', runId]);
    const human = await rpr(['status', runId]);

    expect(status.code, status.stderr).toBe(EXIT.ok);
    const results = (JSON.parse(status.stdout) as { results: { accountId: string; outcome: string; drift?: { state: string; passwordLastSet?: string; lastReset?: string } }[] }).results;
    const byId = new Map(results.map((r) => [r.accountId, r]));
    expect(byId.get(`ad/${drifted.u.sam}`)).toMatchObject({ outcome: 'succeeded', drift: { state: 'changed outside rpr' } });
    expect(byId.get(`ad/${clean.u.sam}`)).toMatchObject({ outcome: 'succeeded', drift: { state: 'none' } });
    const d = byId.get(`ad/${drifted.u.sam}`)!.drift!;
    expect(Date.parse(d.passwordLastSet!)).toBeGreaterThan(Date.parse(d.lastReset!) + 5_000);
    expect(human.stdout).toMatch(/DRIFT/);
    expect(human.stdout).toMatch(new RegExp(`ad/${drifted.u.sam}\\s.*changed outside rpr`));
    expect(human.stdout).toMatch(new RegExp(`ad/${clean.u.sam}\\s.*none`));

    const noDrift = await rpr(['--json', 'status', runId, '--no-drift']);
    expect(JSON.stringify(JSON.parse(noDrift.stdout))).not.toMatch(/drift/);
  });

  it('the leak search: no password appears in the CLI output or the stored files', () => {
    expect(outputs.join('').length).toBeGreaterThan(200);
    expect(findLeaks(passwords, { 'CLI output': outputs.join('\n'), 'stored files': filesText(join(dir, 'store')) })).toEqual([]);
  });
});
