/**
 * AWS's sample rotation function for PostgreSQL (single user, aws-samples; vendored unmodified in
 * bench/rotation-sample/, see its README) measured like for like with bench/rotation.ts: the same
 * moto (a moto server of the bench's own), the same PostgreSQL (the test servers', TLS with host name
 * verification), the same loop (for each secret a new token and createSecret, setSecret, testSecret,
 * finishSecret called in one warm process, the same warm-up count, the same pause between
 * rotations), the same check afterwards (the token is AWSCURRENT and its password logs in).
 *
 * The sample is Python: bench/rotation-sample/driver.py calls its lambda_handler directly with the
 * event Secrets Manager sends, counts AWS calls by operation with a boto3 before-call hook, and
 * times each rotation and step; this file creates the roles, runs the driver, checks and prints.
 * Before each rotation the driver stages the secret as AWS's RotateSecret leaves it (rotation
 * enabled, the token AWSPENDING with no value): see stage() in driver.py. That staging is neither
 * timed nor counted.
 *
 * Needs the test servers (`bash test/servers/setup.sh start`), moto_server on the PATH and PyGreSQL
 * (bench/rotation-sample/README.md says how to install it).
 * `npm run bench:rotation-sample [-- --secrets 50] [-- --warm 5] [-- --pause 50]`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { pgCreateRole, pgDropRole, pgPasswordWorks, uniqueName } from '../harness/servers/fixtures.js';
import { serverInfo } from '../harness/servers/index.js';
import { startMoto } from '../harness/support/moto-process.js';
import { numberOption } from './options.js';

// The same options and defaults as bench/rotation.ts.
const N = numberOption('secrets', 50);
const WARM = numberOption('warm', 5);
const PAUSE_MS = numberOption('pause', 50);
const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
const HERE = join(dirname(fileURLToPath(import.meta.url)), 'rotation-sample');
const VENV_PYTHON = join(HERE, '.venv', 'bin', 'python');
const PYTHON = process.env.RPR_BENCH_PYTHON ?? (existsSync(VENV_PYTHON) ? VENV_PYTHON : 'python3');
const INSTALL =
  'bench:rotation-sample needs PyGreSQL (the sample imports pg and pgdb) next to boto3:\n' +
  `  python3 -m venv --system-site-packages ${join('bench', 'rotation-sample', '.venv')} && ` +
  `${join('bench', 'rotation-sample', '.venv', 'bin', 'pip')} install PyGreSQL==5.2.5\n` +
  '(libpq-dev and a C compiler are needed to build it; or set RPR_BENCH_PYTHON to a python that has PyGreSQL and boto3)\n';

interface Rotation {
  arn: string;
  token: string;
  ms: number;
  steps: number[];
  calls: Record<string, number>;
}

const pg = serverInfo('postgresql');
if (!pg) {
  process.stderr.write('bench:rotation-sample needs the test servers\' PostgreSQL: bash test/servers/setup.sh start\n');
  process.exit(2);
}
const probe = await run(PYTHON, ['-c', 'import pgdb, boto3'], '').catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message }));
if (probe.code !== 0) {
  process.stderr.write(`${probe.stderr.trim()}\n\n${INSTALL}`);
  process.exit(2);
}

const moto = await startMoto();
const roles: { name: string; password: string }[] = [];
let result: { rotations: Rotation[]; python: string; boto3: string; pygresql: string };
try {
  for (let i = 0; i < WARM + N; i++) {
    const name = uniqueName('rs');
    const password = `${name}-Start-0`;
    await pgCreateRole(name, password);
    roles.push({ name, password });
  }
  const job = {
    endpoint: moto.endpoint,
    host: pg.host,
    port: pg.port,
    caFile: pg.caFile,
    // Ours requires TLS and verifies the server; "ssl": true makes the sample do the same, with no
    // fall-back to a clear connection (without the key it would try TLS, then clear text).
    ssl: true,
    prefix: `rpr-bench-sample-${randomBytes(4).toString('hex')}`,
    roles,
    tokens: roles.map(() => randomUUID()),
    pauseMs: PAUSE_MS,
  };
  const out = await run(PYTHON, [join(HERE, 'driver.py')], JSON.stringify(job));
  if (out.code !== 0) throw new Error(`the driver failed (exit ${out.code}):\n${out.stderr}`);
  result = JSON.parse(out.stdout) as typeof result;

  // Every rotation did what it says: its token is AWSCURRENT, and that password logs in.
  const sm = new SecretsManagerClient({ ...AWS, endpoint: moto.endpoint });
  let wrong = 0;
  for (const [i, r] of result.rotations.entries()) {
    const current = await sm.send(new GetSecretValueCommand({ SecretId: r.arn, VersionStage: 'AWSCURRENT' }));
    const password = (JSON.parse(current.SecretString ?? '{}') as { password?: string }).password ?? '';
    if (current.VersionId !== r.token || password === roles[i]!.password || !(await pgPasswordWorks(roles[i]!.name, password))) wrong++;
  }
  sm.destroy();
  if (wrong > 0) throw new Error(`${wrong} of ${result.rotations.length} rotations did not leave a working AWSCURRENT`);
} finally {
  for (const r of roles) await pgDropRole(r.name).catch(() => undefined);
  await moto.stop();
}

const counted = result.rotations.slice(WARM);
const times = counted.map((r) => r.ms);
const perRotation = new Map<string, number>();
for (const r of counted) for (const [op, c] of Object.entries(r.calls)) perRotation.set(op, (perRotation.get(op) ?? 0) + c);
const total = [...perRotation.values()].reduce((a, b) => a + b, 0) / N;
const ops = [...perRotation].sort(([a], [b]) => a.localeCompare(b)).map(([op, c]) => `${op} ${fmt(c / N)}`);
const steps = [0, 1, 2, 3].map((s) => quantile(counted.map((r) => r.steps[s]!), 0.5).toFixed(1));
const label = "AWS's sample, single user";

process.stdout.write(
  `\nSecrets Manager rotation of PostgreSQL secrets by AWS's sample rotation function (${new Date().toISOString().slice(0, 10)}, ` +
    `Python ${result.python}, boto3 ${result.boto3}, PyGreSQL ${result.pygresql}): the four steps through its lambda_handler, warm, ` +
    `${WARM} warm-up rotations not counted, ${PAUSE_MS} ms between rotations; Secrets Manager on a moto of the bench's own, PostgreSQL 15 over TLS (verify-full)\n\n` +
    '| password changed by | rotations | AWS calls per rotation | median ms per rotation | p90 ms per rotation | median ms per step (create / set / test / finish) |\n' +
    '|---|---|---|---|---|---|\n' +
    `| ${label} | ${N} | ${fmt(total)} | ${quantile(times, 0.5).toFixed(1)} | ${quantile(times, 0.9).toFixed(1)} | ${steps.join(' / ')} |\n` +
    '\nAWS calls per rotation, by operation:\n' +
    `- ${label}: ${ops.join(', ')}\n` +
    `\nExact figures (ms): median ${quantile(times, 0.5).toFixed(3)}, p90 ${quantile(times, 0.9).toFixed(3)}, ` +
    `mean ${(times.reduce((a, b) => a + b, 0) / times.length).toFixed(3)}, min ${Math.min(...times).toFixed(3)}, max ${Math.max(...times).toFixed(3)}; ` +
    `per step medians ${[0, 1, 2, 3].map((s) => quantile(counted.map((r) => r.steps[s]!), 0.5).toFixed(3)).join(' / ')}\n`,
);

/** The same quantile as bench/rotation.ts. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function run(cmd: string, args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}
