import { existsSync } from 'node:fs';
import { DescribeTableCommand, DescribeTimeToLiveCommand, type DynamoDBClient, type TableDescription } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import { createStateTable, STATE_TABLE } from '../layers/engine/stores/dynamo-schema.js';
import { awsTarget, type CommandContext } from './context.js';
import { defaultDataDir } from './stores.js';

/**
 * `rpr init`: makes the chosen store ready. With `--store aws`, the DynamoDB state table (its keys,
 * both indexes and TTL, as dynamo-schema.ts defines them) for a CLI run against an AWS account
 * without the CDK stack; a table already there with the right keys is left as it is, one with other
 * keys is refused. With the embedded store, its folder is created (or opened) and named.
 */
export function registerInitCommand(program: Command, ctx: CommandContext): void {
  program
    .command('init')
    .description('create the store: with --store aws, the DynamoDB state table --table (waits until it is active; an existing one with the right keys is kept); embedded: the store folder')
    .action(async () => (ctx.globals().store === 'aws' ? initAws(ctx) : initEmbedded(ctx)));
}

async function initEmbedded(ctx: CommandContext): Promise<void> {
  const dir = ctx.globals().dataDir ?? defaultDataDir();
  const existed = existsSync(dir);
  await ctx.openStores();
  ctx.out(`${existed ? 'opened the existing' : 'created the'} embedded store in ${dir}`, { store: 'embedded', dataDir: dir, created: !existed });
}

async function initAws(ctx: CommandContext): Promise<void> {
  const g = ctx.globals();
  const tableName = g.table ?? process.env.RPR_TABLE ?? 'rpr-state';
  const client = ctx.aws.dynamodb(awsTarget(ctx));
  try {
    const existing = await describe(client, tableName);
    if (existing) refuseOtherSchema(existing, tableName);
    // Also for an existing table: waits until it is active and turns TTL on if it is not.
    await createStateTable(client, tableName);
    const table = await describe(client, tableName);
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName })).catch(() => undefined);
    const result = {
      store: 'aws',
      table: tableName,
      ...(g.region ? { region: g.region } : {}),
      ...(g.endpoint ? { endpoint: g.endpoint } : {}),
      created: !existing,
      status: table?.TableStatus,
      arn: table?.TableArn,
      keys: { partition: STATE_TABLE.partitionKey, sort: STATE_TABLE.sortKey },
      indexes: (table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName),
      ttl: { attribute: STATE_TABLE.ttlAttribute, status: ttl?.TimeToLiveDescription?.TimeToLiveStatus ?? 'unknown' },
    };
    const what = existing ? `table ${tableName} already exists with the state table's keys; left as it is` : `created table ${tableName}`;
    ctx.out(
      `${what} (${result.status}; keys ${STATE_TABLE.partitionKey}/${STATE_TABLE.sortKey}; indexes ${result.indexes.join(', ') || '(none)'}; TTL on ${STATE_TABLE.ttlAttribute}: ${result.ttl.status})`,
      result,
    );
  } finally {
    client.destroy();
  }
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (e) {
    if (e instanceof Error && e.name === 'ResourceNotFoundException') return undefined;
    throw e;
  }
}

const keysOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined) =>
  (schema ?? [])
    .map((k) => `${k.AttributeName} ${k.KeyType}`)
    .sort()
    .join(', ');

/** A table that is not a state table (other keys, or without the indexes the store queries) is not ours to change. */
function refuseOtherSchema(table: TableDescription, tableName: string): void {
  const want = keysOf([
    { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
    { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
  ]);
  const have = keysOf(table.KeySchema);
  if (have !== want) {
    throw new InvalidConfigurationError('--table', `table "${tableName}" already exists with another key schema (${have || 'none'}; rpr's state table has ${want}): name another table with --table`);
  }
  const missing = STATE_TABLE.indexes.filter((i) => {
    const found = table.GlobalSecondaryIndexes?.find((g) => g.IndexName === i.indexName);
    return !found || keysOf(found.KeySchema) !== keysOf([{ AttributeName: i.partitionKey, KeyType: 'HASH' }, { AttributeName: i.sortKey, KeyType: 'RANGE' }]);
  });
  if (missing.length) {
    throw new InvalidConfigurationError('--table', `table "${tableName}" has the state table's keys but not its indexes ${missing.map((i) => `${i.indexName} (${i.partitionKey}/${i.sortKey})`).join(', ')}: name another table with --table`);
  }
}
