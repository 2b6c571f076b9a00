/**
 * Secrets Manager rotation of PostgreSQL secrets, as Secrets Manager drives it: for each secret,
 * the reset function's handler is invoked with createSecret, setSecret, testSecret and
 * finishSecret in turn, with a new token, in one warm process (a warm Lambda container). (AWS
 * lists the token as AWSPENDING, with no value, before createSecret; moto's RotateSecret cannot:
 * without a rotation function it rotates at once, so the steps are called with a token of which
 * the secret knows nothing yet, which costs this function the same calls.) The stores are on a moto server of the bench's own,
 * the target is the real PostgreSQL of the test servers (TLS), with each role changing its own
 * password ("single user", as AWS's sample rotation function does) and with an admin role
 * (CREATEROLE) changing the others'.
 *
 * It prints the AWS API calls the function makes per rotation, counted by operation with a
 * middleware on the stores' SDK clients, and the median and 90th percentile time per rotation (the four
 * invocations, from the first to the last), after a few warm-up rotations that are not counted.
 * Every rotation is then checked: its token is AWSCURRENT and the password logs in.
 *
 * Needs the test servers (`bash test/servers/setup.sh start`) and moto_server on the PATH.
 * `npm run bench:rotation [-- --secrets 50] [-- --warm 5] [-- --pause 50]`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Configurator } from '../layers/engine/configure.js';
import { Log } from '../layers/engine/log.js';
import { Secret } from '../layers/engine/secret.js';
import { AWS_RETRY, openAwsStores } from '../layers/engine/stores/aws.js';
import { createStateTable } from '../layers/engine/stores/dynamo-schema.js';
import { AWSCURRENT } from '../layers/engine/stores/types.js';
import { createPostgresqlAdapter } from '../layers/resources/postgresql/adapter.js';
import { describeSecretWith } from '../layers/workflow/environment.js';
import { createResetHandler } from '../layers/workflow/handler.js';
import { REGISTRY } from '../layers/resources/registry.js';
import { pgCreateRole, pgDropRole, pgPasswordWorks, uniqueName } from '../harness/servers/fixtures.js';
import { serverInfo } from '../harness/servers/index.js';
import { startMoto } from '../harness/support/moto-process.js';
import { numberOption } from './options.js';

const N = numberOption('secrets', 50);
const WARM = numberOption('warm', 5);
/**
 * The pause between two rotations (not timed). The write budget (45 writes a second for the whole
 * deployment, 22 ms apart in one process) would otherwise hold back a rotation that follows
 * another at once; rotations of a deployment's secrets are spread over days, not back to back.
 * Within a rotation its two writes are still paced as the budget paces them.
 */
const PAUSE_MS = numberOption('pause', 50);
const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

const pg = serverInfo('postgresql');
if (!pg) {
  process.stderr.write('bench:rotation needs the test servers\' PostgreSQL: bash test/servers/setup.sh start\n');
  process.exit(2);
}

/** API calls by operation (`DynamoDB.PutItem`, `SecretsManager.GetSecretValue`), as the middleware saw them. */
const calls = new Map<string, number>();
const counted = (service: string) => (context: { commandName?: string }) => {
  const op = `${service}.${(context.commandName ?? '?').replace(/Command$/, '')}`;
  calls.set(op, (calls.get(op) ?? 0) + 1);
};

const moto = await startMoto();
const roles: string[] = [];
const rows: string[] = [];
const breakdowns: string[] = [];
try {
  const tableName = `rpr-bench-rotation-${randomBytes(4).toString('hex')}`;
  const admin = new DynamoDBClient({ ...AWS, endpoint: moto.endpoint });
  await createStateTable(admin, tableName);
  admin.destroy();
  const stores = await openAwsStores({ tableName, endpoint: moto.endpoint, ...AWS });
  // As storesFromEnvironment builds them: the stores' clients, and one of its own for DescribeSecret.
  const describeClient = new SecretsManagerClient({ ...AWS, endpoint: moto.endpoint, ...AWS_RETRY });
  const count = counted('DynamoDB');
  stores.clients.dynamo.middlewareStack.add((next, context) => (args) => (count(context), next(args)), { step: 'initialize', name: 'benchCount' });
  const countSm = counted('SecretsManager');
  stores.clients.secrets.middlewareStack.add((next, context) => (args) => (countSm(context), next(args)), { step: 'initialize', name: 'benchCount' });
  describeClient.middlewareStack.add((next, context) => (args) => (countSm(context), next(args)), { step: 'initialize', name: 'benchCount' });
  // The bench's own reads (the secrets' ARNs, the checks afterwards): not counted.
  const secretsManager = new SecretsManagerClient({ ...AWS, endpoint: moto.endpoint });

  const handler = createResetHandler({
    adapters: { postgresql: createPostgresqlAdapter },
    stores: async () => ({ state: stores.state, credentials: stores.credentials, describeSecret: describeSecretWith(describeClient) }),
    log: new Log({ level: 'SILENT' }),
  });
  const config = new Configurator(stores.state, stores.credentials, REGISTRY);
  const tls = { ssl: true, caCertificate: readFileSync(pg.caFile, 'utf8') };

  for (const mode of ['self', 'admin'] as const) {
    const resourceId = `rot-${mode}`;
    let adminAccount: string | undefined;
    if (mode === 'admin') {
      const name = uniqueName('rbadm');
      await pgCreateRole(name, `${name}-Start-0`, 'CREATEROLE');
      roles.push(name);
      adminAccount = `${resourceId}/${name}`;
      await config.putResource({ id: resourceId, type: 'postgresql', host: pg.host, port: pg.port, ...tls, adminAccount });
      await config.putAccount({ resourceId, username: name, secretId: `${tableName}/${resourceId}/${name}` }, { password: new Secret(`${name}-Start-0`) });
    } else {
      await config.putResource({ id: resourceId, type: 'postgresql', host: pg.host, port: pg.port, ...tls });
    }
    const secrets: { role: string; arn: string }[] = [];
    for (let i = 0; i < WARM + N; i++) {
      const role = uniqueName('rb');
      await pgCreateRole(role, `${role}-Start-0`);
      roles.push(role);
      const secretId = `${tableName}/${resourceId}/${role}`;
      await config.putAccount({ resourceId, username: role, secretId }, { password: new Secret(`${role}-Start-0`) });
      secrets.push({ role, arn: (await describeSecretWith(secretsManager)(secretId)).arn });
    }

    const times: number[] = [];
    const stepTimes: number[][] = STEPS.map(() => []);
    const perRotation = new Map<string, number>();
    const tokens: string[] = [];
    for (const [i, { arn }] of secrets.entries()) {
      const token = randomUUID();
      tokens.push(token);
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      calls.clear();
      const t0 = performance.now();
      for (const [s, Step] of STEPS.entries()) {
        const ts = performance.now();
        await handler({ Step, SecretId: arn, ClientRequestToken: token });
        if (i >= WARM) stepTimes[s]!.push(performance.now() - ts);
      }
      if (i < WARM) continue;
      times.push(performance.now() - t0);
      for (const [op, c] of calls) perRotation.set(op, (perRotation.get(op) ?? 0) + c);
    }

    // Every rotation did what it says: its token is AWSCURRENT, and that password logs in.
    let wrong = 0;
    for (const [i, { role, arn }] of secrets.entries()) {
      const current = await stores.credentials.getValue(arn, { stage: AWSCURRENT });
      if (current.versionId !== tokens[i] || !(await pgPasswordWorks(role, current.value.reveal()))) wrong++;
    }
    if (wrong > 0) throw new Error(`${wrong} of ${secrets.length} rotations did not leave a working AWSCURRENT`);

    const total = [...perRotation.values()].reduce((a, b) => a + b, 0) / N;
    const ops = [...perRotation].sort(([a], [b]) => a.localeCompare(b)).map(([op, c]) => `${op} ${fmt(c / N)}`);
    const label = mode === 'self' ? 'each role changes its own (single user)' : 'an admin role (CREATEROLE) changes it';
    rows.push(`| ${label} | ${N} | ${fmt(total)} | ${quantile(times, 0.5).toFixed(1)} | ${quantile(times, 0.9).toFixed(1)} | ${stepTimes.map((t) => quantile(t, 0.5).toFixed(1)).join(' / ')} |`);
    breakdowns.push(`- ${label}: ${ops.join(', ')}`);
  }
  secretsManager.destroy();
  describeClient.destroy();
  await stores.close();
} finally {
  for (const r of roles) await pgDropRole(r).catch(() => undefined);
  await moto.stop();
}

process.stdout.write(
  `\nSecrets Manager rotation of PostgreSQL secrets (${new Date().toISOString().slice(0, 10)}, Node ${process.version}): the four steps through the reset function's handler, warm, ` +
    `${WARM} warm-up rotations per row not counted, ${PAUSE_MS} ms between rotations; stores on a moto of the bench's own, PostgreSQL 15 over TLS, the default write budget\n\n` +
    '| password changed by | rotations | AWS calls per rotation | median ms per rotation | p90 ms per rotation | median ms per step (create / set / test / finish) |\n' +
    '|---|---|---|---|---|---|\n' +
    rows.join('\n') +
    '\n\nAWS calls per rotation, by operation:\n' +
    breakdowns.join('\n') +
    '\n',
);

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}
