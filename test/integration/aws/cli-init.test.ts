import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';
import { describeServer } from '../../../harness/servers/index.js';
import { MOTO_CREDENTIALS, MOTO_REGION, motoDynamoDb } from './clients.js';

describeServer('moto', 'rpr init --store aws (DynamoDB on moto)', (moto) => {
  const suffix = randomBytes(4).toString('hex');
  const table = `rpr-init-${suffix}`;
  const foreign = `rpr-init-foreign-${suffix}`;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY };
  const rpr = async (args: string[], name = table) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--store', 'aws', '--endpoint', moto.endpoint, '--region', MOTO_REGION, '--table', name, ...args], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      readStdin: async () => '',
    });
    return { code, stdout, stderr };
  };
  const dynamo = motoDynamoDb(moto.endpoint);

  beforeAll(() => {
    // The CLI uses the SDK's credential chain: moto accepts any keys.
    process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
  });
  afterAll(async () => {
    for (const name of [table, foreign]) await dynamo.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
    dynamo.destroy();
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.key === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.key;
  });

  it('creates the state table with its keys, both indexes and TTL, active; a second init keeps it and says so; resources then work on it', async () => {
    const first = await rpr(['--json', 'init']);
    expect(first.code, first.stderr).toBe(EXIT.ok);
    expect(JSON.parse(first.stdout)).toMatchObject({ store: 'aws', table, created: true, status: 'ACTIVE', indexes: ['gsi1', 'gsi2'], ttl: { attribute: 'ttl', status: 'ENABLED' } });

    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: table }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema?.map((k) => k.AttributeName)])).toEqual([
      ['gsi1', ['gsi1pk', 'gsi1sk']],
      ['gsi2', ['gsi2pk', 'gsi2sk']],
    ]);
    const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'ttl', TimeToLiveStatus: 'ENABLED' });

    const again = await rpr(['init']);
    expect(again.code, again.stderr).toBe(EXIT.ok);
    expect(again.stdout).toMatch(new RegExp(`table ${table} already exists with the state table's keys; left as it is`));
    expect(JSON.parse((await rpr(['--json', 'init'])).stdout)).toMatchObject({ table, created: false, status: 'ACTIVE' });

    const added = await rpr(['resource', 'add', '--type', 'postgresql', '--id', 'db1', '--host', '127.0.0.1']);
    expect(added.code, added.stderr).toBe(EXIT.ok);
    const listed = await rpr(['--json', 'resource', 'list']);
    expect(listed.code, listed.stderr).toBe(EXIT.ok);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ id: 'db1', type: 'postgresql', host: '127.0.0.1', port: 5432 }]);
  });

  it('refuses a table that exists with another key schema, naming --table, and leaves it as it was', async () => {
    await dynamo.send(
      new CreateTableCommand({
        TableName: foreign,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    const r = await rpr(['init'], foreign);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toMatch(new RegExp(`--table: table "${foreign}" already exists with another key schema \\(id HASH;`));
    expect(r.stdout).toBe('');
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: foreign }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(Table?.GlobalSecondaryIndexes ?? []).toEqual([]);
  });
});
