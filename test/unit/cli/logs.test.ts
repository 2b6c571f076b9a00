// The CLI's engine logs go to standard error, as JSON lines, so that --json output on standard
// output always parses, whatever --log-level says; and no log line carries a password.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultAwsClients } from '../../../cli/aws.js';
import { EXIT, runCli } from '../../../cli/program.js';
import { MemoryTarget } from '../../../harness/support/memory-target.js';

describe('rpr logs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-cli-logs-'));
  const target = new MemoryTarget();
  const rpr = async (args: string[], stdin = '') => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', join(dir, 'store'), ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => stdin }, defaultAwsClients, { postgresql: target.adapter('postgresql') });
    return { code, stdout, stderr };
  };
  beforeAll(() => {
    process.env.RPR_VAULT_KEY = Buffer.alloc(32, 9).toString('base64');
  });
  afterAll(() => {
    delete process.env.RPR_VAULT_KEY;
    rmSync(dir, { recursive: true, force: true });
  });

  it('--json --log-level DEBUG: standard output is one JSON document, the log lines are JSON on standard error, without the passwords', async () => {
    expect((await rpr(['resource', 'add', '--type', 'postgresql', '--id', 'db1', '--host', 'db1.example'])).code).toBe(EXIT.ok);
    target.passwords.set('app', 'Start-Pass-01');
    expect((await rpr(['account', 'add', '--resource', 'db1', '--username', 'app', '--password-stdin'], 'Start-Pass-01\n')).code).toBe(EXIT.ok);
    const r = await rpr(['--json', '--log-level', 'DEBUG', 'reset', '--account', 'db1/app']);
    expect(r.code).toBe(EXIT.ok);
    const out = JSON.parse(r.stdout) as { counts: { succeeded: number } };
    expect(out.counts.succeeded).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ service: 'rpr', level: expect.any(String), message: expect.any(String) });
    const now = target.passwords.get('app')!;
    expect(now).not.toBe('Start-Pass-01');
    expect(r.stderr).not.toContain(now);
    expect(r.stderr).not.toContain('Start-Pass-01');
  });
});
