import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';
import { pgCreateRole, pgDropRole, pgPasswordWorks, pgSetPassword, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { filesText, findLeaks } from '../../support/leaks.js';

/**
 * What an operator sees, on a real PostgreSQL: `rpr verify` (a table, --json, exit codes like
 * reset's) and `rpr reset --dry-run` for a resource whose admin login is refused and one whose
 * target is unreachable; neither changes a password or a stored version.
 */
describeServer('postgresql', 'rpr verify and rpr reset --dry-run on a real PostgreSQL', (pg) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-verify-cli-'));
  const outputs: string[] = [];
  const passwords = ['Adm-start-1', 'App-start-1', 'Adm-wrong-1', 'App-by-hand-2'];
  const roles = { admin: uniqueName('vadm'), app: uniqueName('vapp') };

  async function rpr(args: string[], stdin = '') {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', join(dir, 'store'), ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => stdin });
    outputs.push(stdout, stderr);
    return { code, stdout, stderr };
  }

  async function addResource(id: string, over: Record<string, unknown> = {}) {
    const file = join(dir, `${id}.json`);
    writeFileSync(file, JSON.stringify({ id, type: 'postgresql', host: pg.host, port: pg.port, ssl: true, caCertificate: readFileSync(pg.caFile, 'utf8'), adminAccount: `${id}/${roles.admin}`, ...over }));
    expect((await rpr(['resource', 'add', '--file', file])).code).toBe(EXIT.ok);
  }
  async function addAccount(resource: string, username: string, password: string) {
    expect((await rpr(['account', 'add', '--resource', resource, '--username', username, '--password-stdin'], `${password}\n`)).code).toBe(EXIT.ok);
  }
  const versions = async () => (await rpr(['--json', 'account', 'list'])).stdout;

  beforeAll(async () => {
    process.env.RPR_VAULT_KEY = Buffer.alloc(32, 9).toString('base64');
    await pgCreateRole(roles.admin, 'Adm-start-1', 'CREATEROLE');
    await pgCreateRole(roles.app, 'App-start-1');
    // db: the right admin password; db-refused: the admin's stored password is wrong; db-gone: nothing listens there.
    await addResource('db');
    await addAccount('db', roles.admin, 'Adm-start-1');
    await addAccount('db', roles.app, 'App-start-1');
    await addResource('db-refused');
    await addAccount('db-refused', roles.admin, 'Adm-wrong-1');
    await addAccount('db-refused', roles.app, 'App-start-1');
    await addResource('db-gone', { host: '127.0.0.1', port: 9, ssl: false, caCertificate: undefined });
    await addAccount('db-gone', roles.admin, 'Adm-start-1');
    await addAccount('db-gone', roles.app, 'App-start-1');
  });
  afterAll(async () => {
    delete process.env.RPR_VAULT_KEY;
    await pgDropRole(roles.app);
    await pgDropRole(roles.admin);
    expect(findLeaks(passwords, { output: outputs.join('\n'), store: filesText(join(dir, 'store')) })).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('rpr verify: in sync exits 0; after a change behind rpr\'s back the account is drifted and the run partial (exit 1)', async () => {
    const ok = await rpr(['verify', '--account', `db/${roles.app}`]);
    expect(ok.code, ok.stderr).toBe(EXIT.ok);
    expect(ok.stdout).toMatch(new RegExp(`db/${roles.app}\\s+in-sync\\s+verify`));
    expect(ok.stdout).toMatch(/verify run run-\S+: succeeded \(1 in-sync\)/);

    await pgSetPassword(roles.app, 'App-by-hand-2');
    const before = await versions();
    const drifted = await rpr(['--json', 'verify', '--resource', 'db']);

    expect(drifted.code).toBe(EXIT.partial);
    const report = JSON.parse(drifted.stdout) as { mode: string; status: string; results: { accountId: string; outcome: string; message?: string }[] };
    expect(report).toMatchObject({ mode: 'verify', status: 'partial' });
    expect(Object.fromEntries(report.results.map((r) => [r.accountId, r.outcome]))).toEqual({ [`db/${roles.admin}`]: 'in-sync', [`db/${roles.app}`]: 'drifted' });
    // Nothing changed: the hand-set password still logs in, the stored versions are as they were.
    expect(await pgPasswordWorks(roles.app, 'App-by-hand-2')).toBe(true);
    expect(await versions()).toBe(before);
    const runs = await rpr(['runs']);
    expect(runs.stdout).toMatch(/run-\S+\s+verify\s+partial/);
  });

  it('rpr reset --dry-run: a refused admin login and an unreachable target, each named, every account "would fail", nothing changed', async () => {
    await pgSetPassword(roles.app, 'App-start-1');
    const before = await versions();

    const dry = await rpr(['reset', '--dry-run', '--resource', 'db-refused', '--resource', 'db-gone']);

    expect(dry.code, dry.stderr).toBe(EXIT.failed);
    expect(dry.stdout).toContain('resource db-refused (postgresql): a real run would fail');
    expect(dry.stdout).toMatch(new RegExp(`\\n {2}FAIL {2}connection and logins: AuthenticationError: logging in as the admin ${roles.admin}: .*password authentication failed`));
    expect(dry.stdout).toContain(`  db-refused/${roles.app}: would fail (connection and logins)`);
    expect(dry.stdout).toContain('resource db-gone (postgresql): a real run would fail');
    expect(dry.stdout).toMatch(/\n {2}FAIL {2}connection and logins: TargetUnchangedError: .*ECONNREFUSED 127\.0\.0\.1:9/);
    expect(dry.stdout).toContain(`  db-gone/${roles.app}: would fail (connection and logins)`);
    expect(dry.stdout).toMatch(/dry run: nothing was changed; 4 of 4 account\(s\) would fail/);
    expect(await versions()).toBe(before);
    expect(await pgPasswordWorks(roles.app, 'App-start-1')).toBe(true);
    expect(await pgPasswordWorks(roles.admin, 'Adm-start-1')).toBe(true);
    // Not recorded as a run.
    expect((await rpr(['runs'])).stdout).not.toMatch(/\sreset\s/);

    const good = await rpr(['--json', 'reset', '--dry-run', '--resource', 'db']);
    expect(good.code, good.stdout).toBe(EXIT.ok);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, resources: [{ resourceId: 'db', ok: true }] });
  });
});
