import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoStateStore, type DynamoStateStoreOptions } from './dynamo.js';
import { createStateTable } from './dynamo-schema.js';
import { LocalVault } from './local-vault.js';

export const EMBEDDED_TABLE_NAME = 'rpr-state';

export interface EmbeddedStores {
  readonly state: DynamoStateStore;
  readonly credentials: LocalVault;
  close(): Promise<void>;
}

/**
 * The stores of the embedded default (no AWS account): the same DynamoStateStore against
 * dynalite, in a worker thread on a random loopback port, persisted under `<dir>/state`, and the
 * local vault under `<dir>/vault`.
 */
export async function openEmbeddedStores(options: { dir: string; vaultKey: Buffer }): Promise<EmbeddedStores> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const state = await openDynalite(join(options.dir, 'state'));
  return {
    state: state.store,
    credentials: new LocalVault({ dir: join(options.dir, 'vault'), key: options.vaultKey }),
    close: state.close,
  };
}

/** Options of the state store that tests may set (a fake clock, small query pages). */
export type MemoryStoresOptions = Pick<DynamoStateStoreOptions, 'clock' | 'pageSize'>;

/**
 * Like openEmbeddedStores, but state in memory and the vault in a temporary directory removed on
 * close. For tests and short benchmarks: every item stays in memory (about 350 MB of RSS after a
 * 10,000-account run), so a bulk benchmark with a memory bound should use openEmbeddedStores on a
 * temporary directory instead (LevelDB on disk, about 200 MB).
 */
export async function openMemoryStores(options: MemoryStoresOptions = {}): Promise<EmbeddedStores> {
  const vaultDir = await mkdtemp(join(tmpdir(), 'rpr-vault-'));
  const state = await openDynalite(undefined, options);
  return {
    state: state.store,
    credentials: new LocalVault({ dir: join(vaultDir, 'vault'), key: randomBytes(32) }),
    async close() {
      await state.close();
      await rm(vaultDir, { recursive: true, force: true });
    },
  };
}

async function openDynalite(
  path: string | undefined,
  stateOptions: MemoryStoresOptions = {},
): Promise<{ store: DynamoStateStore; close(): Promise<void> }> {
  const server = await startDynalite(path);
  const port = server.port;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'local',
    credentials: { accessKeyId: 'embedded', secretAccessKey: 'embedded' },
    maxAttempts: 3,
  });
  const close = async (): Promise<void> => {
    client.destroy();
    await server.close();
  };
  try {
    await createStateTable(client, EMBEDDED_TABLE_NAME);
  } catch (e) {
    await close();
    throw e;
  }
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { store: new DynamoStateStore({ ...stateOptions, client: documents, tableName: EMBEDDED_TABLE_NAME }), close };
}

/**
 * dynalite in a worker thread of its own: its request parsing, validation and LevelDB work
 * run beside the engine and the adapters instead of on their event loop.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require(workerData.module);
const server = dynalite({ ...(workerData.path !== undefined ? { path: workerData.path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.once('error', (e) => parentPort.postMessage({ error: String(e) }));
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', () => {
  server.close(() => parentPort.close());
  server.closeAllConnections();
});
`;

async function startDynalite(path: string | undefined): Promise<{ port: number; close(): Promise<void> }> {
  const worker = new Worker(WORKER, { eval: true, workerData: { module: createRequire(import.meta.url).resolve('dynalite'), path } });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // After start-up, a failing worker shows as refused connections, which the store reports.
  worker.on('error', () => undefined);
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { port?: number; error?: string }) => (m.port ? resolve(m.port) : reject(new Error(`the embedded DynamoDB (dynalite) did not start: ${m.error}`))));
    void exited.then(() => reject(new Error('the embedded DynamoDB (dynalite) exited before it listened')));
  });
  return {
    port,
    close: async () => {
      worker.postMessage('close');
      await exited;
    },
  };
}
