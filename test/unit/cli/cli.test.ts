import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';

/** Runs the CLI in-process on its own embedded store; returns exit code and output. */
function cli(dataDir: string) {
  return async (args: string[], stdin = '') => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', dataDir, ...args], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      readStdin: async () => stdin,
    });
    return { code, stdout, stderr };
  };
}

describe('rpr CLI on the embedded store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-cli-'));
  const rpr = cli(join(dir, 'store'));
  beforeAll(() => {
    process.env.RPR_VAULT_KEY = Buffer.alloc(32, 7).toString('base64');
  });
  afterAll(() => {
    delete process.env.RPR_VAULT_KEY;
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a Secrets Manager write rate that is not a positive number, naming the option, before doing anything', async () => {
    for (const rate of ['0', '-3', 'fast']) {
      const r = await rpr(['--secrets-write-rate', rate, 'types']);
      expect(r.code, rate).toBe(EXIT.badInput);
      expect(r.stderr).toMatch(/--secrets-write-rate: must be a positive number of writes per second/);
      expect(r.stdout).toBe('');
    }
  });

  it('adds, lists, shows, updates and removes a resource', async () => {
    const add = await rpr(['resource', 'add', '--type', 'linux', '--id', 'web1', '--host', '10.0.0.5', '--set', 'login.account=web1/ops', '--set', 'privilege.mode=sudo', '--tag', 'site-a']);
    expect(add).toMatchObject({ code: EXIT.ok });
    const list = await rpr(['--json', 'resource', 'list', '--tag', 'site-a']);
    expect(JSON.parse(list.stdout)).toMatchObject([{ id: 'web1', type: 'linux', port: 22, protocol: 'ssh', privilege: { mode: 'sudo' } }]);
    expect((await rpr(['resource', 'update', 'web1', '--set', 'protocol=telnet'])).code).toBe(EXIT.ok);
    const shown = JSON.parse((await rpr(['--json', 'resource', 'show', 'web1'])).stdout);
    expect(shown).toMatchObject({ id: 'web1', protocol: 'telnet', accounts: [] });
    expect((await rpr(['resource', 'remove', 'web1'])).code).toBe(EXIT.ok);
    expect((await rpr(['resource', 'show', 'web1'])).code).toBe(EXIT.badInput);
  });

  it('takes the common fields as options: --port, --protocol, --login and --admin (where the type names its admin)', async () => {
    expect((await rpr(['resource', 'add', '--type', 'linux', '--id', 'opt1', '--host', 'h1', '--port', '2200', '--protocol', 'telnet', '--login', 'opt1/ops'])).code).toBe(EXIT.ok);
    expect(JSON.parse((await rpr(['--json', 'resource', 'show', 'opt1'])).stdout)).toMatchObject({ port: 2200, protocol: 'telnet', login: { account: 'opt1/ops' } });
    expect((await rpr(['resource', 'add', '--type', 'postgresql', '--id', 'opt2', '--host', 'h2', '--admin', 'opt2/postgres'])).code).toBe(EXIT.ok);
    expect(JSON.parse((await rpr(['--json', 'resource', 'show', 'opt2'])).stdout)).toMatchObject({ adminAccount: 'opt2/postgres' });
    expect((await rpr(['resource', 'add', '--type', 'mssql', '--id', 'opt3', '--host', 'h3', '--admin', 'opt3/sa', '--set', 'authentication.mode=sql'])).code).toBe(EXIT.ok);
    expect(JSON.parse((await rpr(['--json', 'resource', 'show', 'opt3'])).stdout)).toMatchObject({ authentication: { mode: 'sql', adminAccount: 'opt3/sa' } });
    // A Unix resource without its login says which field, and the option that gives it.
    const missing = await rpr(['resource', 'add', '--type', 'linux', '--id', 'opt4', '--host', 'h4']);
    expect(missing.code).toBe(EXIT.badInput);
    expect(missing.stderr).toMatch(/login\.account: is required: the account rpr logs in as.*--login/);
    const noLogin = await rpr(['resource', 'add', '--type', 'postgresql', '--id', 'opt6', '--host', 'h6', '--login', 'opt6/x']);
    expect(noLogin.stderr).toMatch(/^error: --login: the type "postgresql" names no login account of its own; use --admin/);
    const badPort = await rpr(['resource', 'add', '--type', 'postgresql', '--id', 'opt5', '--host', 'h5', '--port', 'http']);
    expect(badPort.code).toBe(EXIT.badInput);
    expect(badPort.stderr).toMatch(/^error: port: /);
    for (const id of ['opt1', 'opt2', 'opt3']) await rpr(['resource', 'remove', id]);
  });

  it('refuses bad input with exit code 2, naming the field, and stores nothing', async () => {
    const unknownType = await rpr(['resource', 'add', '--type', 'vax', '--id', 'x1', '--host', 'h']);
    expect(unknownType.code).toBe(EXIT.badInput);
    expect(unknownType.stderr).toMatch(/^error: type: unknown resource type "vax"/);
    const badPort = await rpr(['resource', 'add', '--type', 'postgresql', '--id', 'x2', '--host', 'h', '--set', 'port=70000']);
    expect(badPort.code).toBe(EXIT.badInput);
    expect(badPort.stderr).toMatch(/port/);
    const impossible = await rpr(['resource', 'add', '--type', 'postgresql', '--id', 'x3', '--host', 'h', '--set', 'policy={"length":8,"minDigits":5,"minSymbols":5}']);
    expect(impossible.code).toBe(EXIT.badInput);
    expect(impossible.stderr).toMatch(/policy\.length/);
    const su = await rpr(['resource', 'add', '--type', 'linux', '--id', 'x4', '--host', 'h', '--set', 'login.account=x4/a', '--set', 'privilege={"mode":"su"}']);
    expect(su.code).toBe(EXIT.badInput);
    expect(su.stderr).toMatch(/privilege\.rootAccount/);
    expect(JSON.parse((await rpr(['--json', 'resource', 'list'])).stdout)).toEqual([]);
  });

  it('adds an account from a password on stdin and never prints the password', async () => {
    await rpr(['resource', 'add', '--type', 'postgresql', '--id', 'db1', '--host', '127.0.0.1']);
    const added = await rpr(['account', 'add', '--resource', 'db1', '--username', 'app', '--password-stdin'], 'Start-Pw-0123456789\n');
    expect(added.code).toBe(EXIT.ok);
    const shown = await rpr(['account', 'show', 'db1/app']);
    expect(shown.stdout).toContain('AWSCURRENT');
    expect(shown.stdout + added.stdout).not.toContain('Start-Pw-0123456789');
    const injected = await rpr(['account', 'add', '--resource', 'db1', '--username', 'bad\nname', '--secret-id', 'rpr/bad', '--password-stdin'], 'x-password-1\n');
    expect(injected).toMatchObject({ code: EXIT.badInput });
    expect(injected.stderr).toMatch(/username/);
    const missingSecret = await rpr(['account', 'add', '--resource', 'db1', '--username', 'other', '--secret-id', 'no/such/secret']);
    expect(missingSecret.code).toBe(EXIT.badInput);
    expect(missingSecret.stderr).toMatch(/secretId/);
  });

  it('imports CSV rows over a shared configuration; with a bad row, reports its line and imports nothing', async () => {
    const shared = join(dir, 'shared.json');
    writeFileSync(shared, JSON.stringify({ type: 'linux', privilege: { mode: 'sudo' }, tags: ['fleet'] }));
    const csv = join(dir, 'hosts.csv');
    writeFileSync(csv, 'id,host,login.account\nh1,10.1.0.1,h1/ops\nh2,bad host!,h2/ops\nh3,10.1.0.3,h3/ops\nh4,10.1.0.4,\n');
    const refused = await rpr(['resource', 'import', csv, '--config', shared]);
    expect(refused.code).toBe(EXIT.badInput);
    expect(refused.stderr).toContain(`${csv}:3: host:`);
    expect(refused.stderr).toContain(`${csv}:5: login.account:`);
    expect(JSON.parse((await rpr(['--json', 'resource', 'list', '--tag', 'fleet'])).stdout)).toEqual([]);

    const partial = await rpr(['--json', 'resource', 'import', csv, '--config', shared, '--skip-bad']);
    expect(partial.code).toBe(EXIT.partial);
    expect(JSON.parse(partial.stdout).imported).toEqual(['h1', 'h3']);
    const json = join(dir, 'more.json');
    writeFileSync(json, JSON.stringify([{ id: 'h5', host: '10.1.0.5', login: { account: 'h5/ops' } }]));
    expect((await rpr(['resource', 'import', json, '--config', shared])).code).toBe(EXIT.ok);
    expect(JSON.parse((await rpr(['--json', 'resource', 'list', '--tag', 'fleet'])).stdout).map((r: { id: string }) => r.id).sort()).toEqual(['h1', 'h3', 'h5']);
  });

  it('reset without a selector is bad input; an empty selection succeeds with nothing to do', async () => {
    expect((await rpr(['reset'])).code).toBe(EXIT.badInput);
    const none = await rpr(['--json', 'reset', '--tag', 'nothing-has-this']);
    expect(none.code).toBe(EXIT.ok);
    expect(JSON.parse(none.stdout).counts.total).toBe(0);
  });

  it('lists every resource type with how it is verified and what the suite checks it against', async () => {
    const types = JSON.parse((await rpr(['--json', 'types'])).stdout) as { type: string; verified: string; tested: string }[];
    expect(types.length).toBe(30);
    expect(types.find((t) => t.type === 'postgresql')).toMatchObject({ verified: 'login', tested: 'real server' });
    expect(types.find((t) => t.type === 'sybase-ase')).toMatchObject({ verified: 'login', tested: 'simulator' });
    expect(types.find((t) => t.type === 'oracle')).toMatchObject({ tested: 'simulator' });
  });
});
