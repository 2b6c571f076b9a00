import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm start (the demo on an embedded PostgreSQL)', () => {
  it('resets every demo role and proves each: new password logs in, old one refused; prints the audit trail', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'cli/demo.ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });

    expect(run.status, run.stderr).toBe(0);
    const out = run.stdout;
    expect(out).toContain('Every password was reset and proven');
    for (const role of ['app_billing', 'app_orders', 'app_search', 'report_reader', 'etl_loader', 'postgres']) {
      expect(out).toMatch(new RegExp(`demo-pg/${role}\\s+succeeded\\s+yes\\s+yes`));
    }
    expect(out).toContain('Audit trail');
    expect(out).toContain('Stopped the embedded PostgreSQL');
    expect(run.stderr).not.toMatch(/Warning|Error/);
  }, 150_000);
});
