import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../harness/servers/index.js';

const DRIVERS = ['ssh2', 'pg', 'mysql2', 'ldapts'];
const dir = mkdtempSync(join(tmpdir(), 'rpr-synth-loads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The packages a command loaded, from test/support/record-loads.mjs's record. */
function loadedPackages(args: string[], env: Record<string, string> = {}): Set<string> {
  const record = join(dir, `loads-${Math.random().toString(36).slice(2)}.txt`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/support/record-loads.mjs', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, ...env, RPR_RECORD_LOADS: record },
    timeout: 120_000,
  });
  expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
  const urls = readFileSync(record, 'utf8').split('\n');
  return new Set(urls.map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => p !== undefined));
}

describe('drivers load only where a password is changed', () => {
  it('cdk synth (the app, every stack, bundling aside) loads no driver', () => {
    const out = join(dir, 'cdk.out');
    const loaded = loadedPackages(['infra/app.ts'], { CDK_OUTDIR: out, CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [] }) });
    expect(loaded.has('aws-cdk-lib')).toBe(true);
    expect(DRIVERS.filter((d) => loaded.has(d))).toEqual([]);
  });

  it('the CLI lists the types without loading a driver, and loads one when a type needs it', () => {
    const types = loadedPackages(['cli/bin.ts', '--data-dir', join(dir, 'rpr-home'), 'types']);
    expect(types.has('commander')).toBe(true);
    expect(DRIVERS.filter((d) => types.has(d))).toEqual([]);
    // The record can tell: loading the PostgreSQL descriptor's adapter brings pg in.
    const script = "const { RESOURCE_TYPE_DEFINITIONS: d } = await import('./layers/resources/registry.ts'); await d.postgresql.implementation.adapter();";
    const pg = loadedPackages(['--input-type=module', '-e', script]);
    expect(pg.has('pg')).toBe(true);
    expect(pg.has('ssh2')).toBe(false);
  });
});
