import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NoAuthSigner } from '@smithy/core';
import { HttpRequest, HttpResponse } from '@smithy/core/transport';
import dynalite from 'dynalite';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
 * dynalite, in process on a random loopback port, persisted under `<dir>/state`, and the
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
  const server = dynalite({ ...(path !== undefined ? { path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'local',
    credentials: { accessKeyId: 'embedded', secretAccessKey: 'embedded' },
    maxAttempts: 3,
    ...inProcess(server),
  });
  // What only a request on the wire needs: its host and length headers, the user agent, the recursion-detection header.
  for (const name of ['hostHeaderMiddleware', 'contentLengthMiddleware', 'getUserAgentMiddleware', 'recursionDetectionMiddleware']) client.middlewareStack.remove(name);
  const close = async (): Promise<void> => {
    client.destroy();
    await closeServer(server);
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
 * The client's requests go to dynalite's request listener in this process, not over loopback
 * HTTP, and unsigned: the keys are fake and the server is ours. Per request that spares the
 * SigV4 signature, the socket, and HTTP written and parsed on both sides, which were most of
 * the embedded store's CPU. The server still listens, since its close is what closes LevelDB.
 */
function inProcess(server: Server): Pick<DynamoDBClientConfig, 'requestHandler' | 'httpAuthSchemes'> {
  return {
    httpAuthSchemes: [{ schemeId: 'aws.auth#sigv4', identityProvider: () => async () => ({}), signer: new NoAuthSigner() }],
    requestHandler: {
      handle: (request: HttpRequest) => new Promise((resolve, reject) => {
        const req = Object.assign(new EventEmitter(), {
          method: request.method,
          url: request.path,
          // dynalite checks that a request names its signature and date, not that the signature holds.
          headers: { ...lowerCaseKeys(request.headers), authorization: UNSIGNED, 'x-amz-date': '20000101T000000Z' },
        });
        const headers: Record<string, string> = {};
        const res = {
          statusCode: 200,
          setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)),
          end: (body?: string) => resolve({ response: new HttpResponse({ statusCode: res.statusCode, headers, body: Buffer.from(body ?? '') }) }),
        };
        try {
          server.emit('request', req, res);
          if (request.body !== undefined) req.emit('data', bodyBytes(request.body));
          req.emit('end');
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      }),
    },
  };
}

const UNSIGNED = 'AWS4-HMAC-SHA256 Credential=embedded/20000101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=unsigned';

/** The serialized body as bytes, without a copy (the SDK hands over a Uint8Array of JSON, or a string). */
function bodyBytes(body: unknown): Buffer {
  return body instanceof Uint8Array ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : Buffer.from(String(body));
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((e) => (e ? reject(e) : resolve()));
    server.closeAllConnections();
  });
}
