import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';
import { pgCreateRole, pgDropRole, pgPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer, repoRoot } from '../../../harness/servers/index.js';
import { openEmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT } from '../../../layers/engine/stores/types.js';
import { filesText, findLeaks } from '../../support/leaks.js';

/**
 * A `rpr reset` killed with SIGKILL at points of the protocol, on a real PostgreSQL, and the run an
 * operator starts right after: it takes the dead run's leases over at once (the killed process is
 * gone from this machine, which its leases record), settles what the dead run left, and every
 * account ends with a stored password that logs in; the killed run shows as interrupted.
 */
describeServer('postgresql', 'rpr reset killed with SIGKILL, and the run right after (real PostgreSQL)', (pg) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-crash-'));
  const store = join(dir, 'store');
  const vaultKey = Buffer.alloc(32, 7).toString('base64');
  const outputs: string[] = [];
  const startPasswords: string[] = [];
  const roles: string[] = [];
  const currentPasswords: string[] = [];

  async function rpr(args: string[], stdin = '') {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', store, ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => stdin });
    outputs.push(stdout, stderr);
    return { code, stdout, stderr };
  }

  /** A resource of its own: an admin and four roles, each with its start password. */
  async function resource(id: string): Promise<string[]> {
    const names = ['adm', 'a', 'b', 'c', 'd'].map((n) => uniqueName(`k${n}`));
    const file = join(dir, `${id}.json`);
    writeFileSync(file, JSON.stringify({ id, type: 'postgresql', host: pg.host, port: pg.port, ssl: true, caCertificate: readFileSync(pg.caFile, 'utf8'), adminAccount: `${id}/${names[0]}` }));
    expect((await rpr(['resource', 'add', '--file', file])).code).toBe(EXIT.ok);
    for (const [i, name] of names.entries()) {
      const password = `${name}-Start-1`;
      await pgCreateRole(name, password, i === 0 ? 'CREATEROLE' : '');
      expect((await rpr(['account', 'add', '--resource', id, '--username', name, '--password-stdin'], `${password}\n`)).code).toBe(EXIT.ok);
      roles.push(name);
      startPasswords.push(password);
    }
    return names;
  }

  /** `rpr reset --resource id` in a process of its own, killed with SIGKILL as soon as its log says `point`. */
  function resetKilledAt(id: string, point: string): Promise<{ signal: NodeJS.Signals | null; runId?: string; log: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/bin.ts', '--data-dir', store, '--log-level', 'INFO', 'reset', '--resource', id], {
      cwd: repoRoot,
      env: { ...process.env, RPR_VAULT_KEY: vaultKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    let runId: string | undefined;
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      for (const line of log.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { message?: string; runId?: string };
        runId ??= entry.runId;
        if (entry.message === point && child.exitCode === null) child.kill('SIGKILL');
      }
    });
    return new Promise((resolve) => child.on('exit', (_code, signal) => resolve({ signal, ...(runId ? { runId } : {}), log })));
  }

  beforeAll(() => {
    process.env.RPR_VAULT_KEY = vaultKey;
  });
  afterAll(async () => {
    delete process.env.RPR_VAULT_KEY;
    for (const r of roles) await pgDropRole(r);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const point of ['create: pending version stored', 'set: changed on the target', 'test: the new password is proven']) {
    it(`killed once its log says "${point}": the next run at once leaves every account with a stored password that logs in`, async () => {
      const id = `db-${point.split(':')[0]}`;
      const names = await resource(id);

      const killed = await resetKilledAt(id, point);
      outputs.push(killed.log);
      expect(killed.signal, killed.log).toBe('SIGKILL');
      expect(killed.runId).toBeDefined();

      // The killed run: interrupted, saying why and what its accounts in flight were doing.
      const runs = JSON.parse((await rpr(['--json', 'runs'])).stdout) as { runId: string; status: string; interrupted?: string }[];
      const dead = runs.find((r) => r.runId === killed.runId)!;
      expect(dead.status).toBe('interrupted');
      expect(dead.interrupted).toMatch(/its process \d+ on .* is not running/);
      const status = await rpr(['status', killed.runId!, '--no-drift']);
      expect(status.stdout).toContain(`run ${killed.runId}: interrupted`);
      // Every account it selected is either recorded or listed as left undone, with how far it got.
      const shown = JSON.parse((await rpr(['--json', 'status', killed.runId!, '--no-drift'])).stdout) as { results: unknown[]; unfinished?: { accountId: string; step: string; detail: string }[] };
      expect(shown.results.length + (shown.unfinished?.length ?? 0)).toBe(names.length);
      expect(shown.unfinished?.length).toBeGreaterThan(0);
      for (const u of shown.unfinished ?? []) expect(status.stdout).toMatch(new RegExp(`${u.accountId}\\s+interrupted\\s+${u.step}`));

      // At once: no lease of the dead run is waited for.
      const t0 = Date.now();
      const again = await rpr(['--json', 'reset', '--resource', id]);
      expect(again.code, again.stdout + again.stderr).toBe(EXIT.ok);
      expect(Date.now() - t0).toBeLessThan(60_000);
      const report = JSON.parse(again.stdout) as { results: { accountId: string; outcome: string }[] };
      expect(report.results.map((r) => r.outcome)).toEqual(names.map(() => 'succeeded'));

      const accounts = JSON.parse((await rpr(['--json', 'account', 'list', '--resource', id])).stdout) as { username: string; secretId: string }[];
      const stores = await openEmbeddedStores({ dir: store, vaultKey: Buffer.from(vaultKey, 'base64') });
      try {
        for (const a of accounts) {
          const current = (await stores.credentials.getValue(a.secretId, { stage: AWSCURRENT })).value.reveal();
          currentPasswords.push(current);
          expect(await pgPasswordWorks(a.username, current), a.username).toBe(true);
          expect(await pgPasswordWorks(a.username, `${a.username}-Start-1`)).toBe(false);
        }
      } finally {
        await stores.close();
      }
      expect(findLeaks([...startPasswords, ...currentPasswords], { output: outputs.join('\n') })).toEqual([]);
    });
  }

  it('the store keeps no password in plaintext after all of it', () => {
    expect(findLeaks([...startPasswords, ...currentPasswords], { store: filesText(store) })).toEqual([]);
  });
});
