import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';
import { pgCreateRole, pgDropRole, pgHoldRoleLock, pgPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer, repoRoot } from '../../../harness/servers/index.js';
import { openEmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT } from '../../../layers/engine/stores/types.js';
import { filesText, findLeaks } from '../../support/leaks.js';

/**
 * Several rpr processes on one embedded store at once, as an operator's terminal beside a
 * scheduled job: a reset in flight (its change held open on the real PostgreSQL by a lock on the
 * role, so it is still running when the others start), and beside it `rpr runs`, `rpr resource
 * add`, and a second reset of the same account, each in a process of its own.
 */
describeServer('postgresql', 'rpr processes sharing one embedded store (real PostgreSQL)', (pg) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-shared-'));
  const store = join(dir, 'store');
  const vaultKey = Buffer.alloc(32, 9).toString('base64');
  const outputs: string[] = [];
  const passwords: string[] = [];
  const roles = ['adm', 'a', 'b'].map((n) => uniqueName(`sh${n}`));
  const resourceFile = (id: string) => {
    const file = join(dir, `${id}.json`);
    writeFileSync(file, JSON.stringify({ id, type: 'postgresql', host: pg.host, port: pg.port, ssl: true, caCertificate: readFileSync(pg.caFile, 'utf8'), adminAccount: `${id}/${roles[0]}` }));
    return file;
  };

  async function rpr(args: string[], stdin = '') {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', store, ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => stdin });
    outputs.push(stdout, stderr);
    return { code, stdout, stderr };
  }

  /** `rpr ARGS` in a process of its own; `logged(message)` resolves once its engine log says so. */
  function rprProcess(args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/bin.ts', '--data-dir', store, ...args], {
      cwd: repoRoot,
      env: { ...process.env, RPR_VAULT_KEY: vaultKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const waiting: { message: string; resolve: (runId: string) => void }[] = [];
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      for (const line of stderr.split('\n').filter((l) => l.startsWith('{'))) {
        const entry = JSON.parse(line) as { message?: string; runId?: string };
        for (const w of waiting.filter((w) => w.message === entry.message)) w.resolve(entry.runId ?? '');
      }
    });
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('exit', (code) => {
        outputs.push(stdout, stderr);
        resolve({ code, stdout, stderr });
      }),
    );
    return { done, logged: (message: string) => new Promise<string>((resolve) => waiting.push({ message, resolve })) };
  }

  beforeAll(async () => {
    process.env.RPR_VAULT_KEY = vaultKey;
    expect((await rpr(['resource', 'add', '--file', resourceFile('db')])).code).toBe(EXIT.ok);
    for (const [i, name] of roles.entries()) {
      const password = `${name}-Start-1`;
      passwords.push(password);
      await pgCreateRole(name, password, i === 0 ? 'CREATEROLE' : '');
      expect((await rpr(['account', 'add', '--resource', 'db', '--username', name, '--password-stdin'], `${password}\n`)).code).toBe(EXIT.ok);
    }
  });
  afterAll(async () => {
    delete process.env.RPR_VAULT_KEY;
    for (const r of roles) await pgDropRole(r);
    rmSync(dir, { recursive: true, force: true });
  });

  async function currentPasswordWorks(username: string): Promise<boolean> {
    const stores = await openEmbeddedStores({ dir: store, vaultKey: Buffer.from(vaultKey, 'base64') });
    try {
      const current = (await stores.credentials.getValue(`rpr/db/${username}`, { stage: AWSCURRENT })).value.reveal();
      passwords.push(current);
      return await pgPasswordWorks(username, current);
    } finally {
      await stores.close();
    }
  }

  it('a reset in flight, and `rpr runs` and `rpr resource add` in other processes beside it: each answers, and the reset ends succeeded', async () => {
    const lock = await pgHoldRoleLock(roles[1]!);
    const reset = rprProcess(['--json', '--log-level', 'INFO', 'reset', '--account', `db/${roles[1]}`]);
    try {
      const runId = await reset.logged('create: pending version stored');

      const runs = rprProcess(['--json', 'runs']);
      const added = rprProcess(['resource', 'add', '--file', resourceFile('db-added')]);
      const [listed, add] = await Promise.all([runs.done, added.done]);
      expect(listed.code, listed.stderr).toBe(EXIT.ok);
      expect((JSON.parse(listed.stdout) as { runId: string; status: string }[]).find((r) => r.runId === runId)?.status).toBe('running');
      expect(add.code, add.stderr).toBe(EXIT.ok);
    } finally {
      await lock.release();
    }
    const result = await reset.done;
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect((JSON.parse(result.stdout) as { results: { outcome: string }[] }).results.map((r) => r.outcome)).toEqual(['succeeded']);
    expect(JSON.parse((await rpr(['--json', 'resource', 'list'])).stdout).map((r: { id: string }) => r.id)).toEqual(['db', 'db-added']);
    expect(await currentPasswordWorks(roles[1]!)).toBe(true);
    expect(await pgPasswordWorks(roles[1]!, `${roles[1]}-Start-1`)).toBe(false);
  });

  it('two resets of one account at once: one changes it, the other is told the first run holds its lease and changes nothing', async () => {
    const account = `db/${roles[2]}`;
    const lock = await pgHoldRoleLock(roles[2]!);
    const first = rprProcess(['--json', '--log-level', 'INFO', 'reset', '--account', account]);
    let second: { code: number | null; stdout: string; stderr: string };
    let firstRun: string;
    try {
      firstRun = await first.logged('create: pending version stored');
      second = await rprProcess(['--json', 'reset', '--account', account]).done;
    } finally {
      await lock.release();
    }
    const won = await first.done;
    expect(won.code, won.stderr).toBe(EXIT.ok);
    expect(second.code).toBe(EXIT.failed);
    const refused = JSON.parse(second.stdout) as { results: { accountId: string; outcome: string; message?: string }[] };
    expect(refused.results).toMatchObject([{ accountId: account, outcome: 'failed' }]);
    expect(refused.results[0]!.message).toContain(`is being reset by ${firstRun}`);
    expect(await currentPasswordWorks(roles[2]!)).toBe(true);
    expect(await pgPasswordWorks(roles[2]!, `${roles[2]}-Start-1`)).toBe(false);
  });

  it('leaves no password in the output of any process, nor in plaintext in the database files', () => {
    expect(findLeaks(passwords, { output: outputs.join('\n'), store: filesText(store) })).toEqual([]);
  });
});
