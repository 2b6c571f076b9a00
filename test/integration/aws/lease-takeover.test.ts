import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { DynamoStateStore, createStateTable } from '../../../layers/engine/stores/dynamo.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT } from '../../../layers/engine/stores/types.js';
import { MemoryTarget } from '../../../harness/support/memory-target.js';
import { describeServer } from '../../../harness/servers/index.js';
import { REGISTRY } from '../../../layers/resources/registry.js';
import { motoDynamoDb } from './clients.js';

/**
 * On the state table (moto's DynamoDB): a Lambda or an agent that died holding leases is told from
 * a live one by its heartbeat alone (its pid means nothing on this machine), and the next run takes
 * over only the leases whose heartbeat stopped.
 */
describeServer('moto', 'taking over the leases of a dead Lambda on DynamoDB (moto)', ({ endpoint }) => {
  const client = motoDynamoDb(endpoint);
  const tableName = `rpr-takeover-${randomUUID()}`;
  let shift = 0;
  let state: DynamoStateStore;
  let vault: EmbeddedStores;
  const target = new MemoryTarget();

  beforeAll(async () => {
    await createStateTable(client, tableName);
    state = new DynamoStateStore({ client: DynamoDBDocumentClient.from(client), tableName, clock: () => Date.now() + shift });
    vault = await openMemoryStores();
    const config = new Configurator(state, vault.credentials, REGISTRY);
    await config.putResource({ id: 'db1', type: 'postgresql', host: 'db1.example', adminAccount: 'db1/admin' });
    for (const u of ['admin', 'stale', 'fresh']) {
      target.passwords.set(u, `${u}-start-pw`);
      await config.putAccount({ resourceId: 'db1', username: u, secretId: `s/${u}` }, { password: new Secret(`${u}-start-pw`) });
    }
    target.adminPassword = 'admin-start-pw';
  });
  afterAll(async () => {
    await vault.close();
    await client.send(new DeleteTableCommand({ TableName: tableName }));
    client.destroy();
  });

  it('takes over the lease whose heartbeat is two minutes old and refuses the one renewed just now', async () => {
    // A Lambda sandbox (pid 8, as they often are) renewed this one two minutes ago, then died.
    shift = -120_000;
    await state.acquire('db1/stale', 'run-dead-lambda', 15 * 60_000, { holder: { host: '169.254.10.1', pid: 8, kind: 'lambda' } });
    // An agent elsewhere holds this one and is alive: it just renewed it.
    shift = 0;
    await state.acquire('db1/fresh', 'run-live-agent', 15 * 60_000, { holder: { host: 'agent-dmz1', pid: process.pid, kind: 'agent' } });

    const engine = new ResetEngine({ registry: REGISTRY, state, credentials: vault.credentials, adapters: { postgresql: target.adapter('postgresql') }, log: new Log({ level: 'SILENT' }) });
    const run = await engine.run({ accountIds: ['db1/stale', 'db1/fresh'] });

    const results = Object.fromEntries((await state.listAccountResults(run.runId)).map((r) => [r.accountId, r]));
    expect(results['db1/stale']).toMatchObject({ outcome: 'succeeded' });
    expect(target.passwords.get('stale')).toBe((await vault.credentials.getValue('s/stale', { stage: AWSCURRENT })).value.reveal());
    expect(results['db1/fresh']).toMatchObject({ outcome: 'failed', errorClass: 'AccountBusyError' });
    expect(results['db1/fresh']!.message).toContain('run-live-agent');
    expect(target.passwords.get('fresh')).toBe('fresh-start-pw');
  });
});
