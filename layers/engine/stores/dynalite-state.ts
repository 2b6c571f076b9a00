import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NoAuthSigner } from '@smithy/core';
import { HttpRequest, HttpResponse } from '@smithy/core/transport';
import dynalite from 'dynalite';
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoStateStore, type DynamoStateStoreOptions } from './dynamo.js';
import { createStateTable } from './dynamo-schema.js';

/** The table's name in a dynalite folder the embedded store kept before its journal (and in the tests' dynalite). */
export const DYNALITE_TABLE_NAME = 'rpr-state';

export interface DynaliteState {
  readonly store: DynamoStateStore;
  /** The store's client, for reading the table whole (a migration). */
  readonly client: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/**
 * A DynamoStateStore on dynalite, in process, persisted under `path` (LevelDB) or in memory. The
 * embedded store was this until its journal (local-state.ts); now it serves to migrate a folder
 * configured before (local-migration.ts) and to test DynamoStateStore without AWS.
 */
export async function openDynaliteState(
  path: string | undefined,
  stateOptions: Pick<DynamoStateStoreOptions, 'clock' | 'pageSize'> = {},
): Promise<DynaliteState> {
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
    await createStateTable(client, DYNALITE_TABLE_NAME);
  } catch (e) {
    await close();
    throw e;
  }
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { store: new DynamoStateStore({ ...stateOptions, client: documents, tableName: DYNALITE_TABLE_NAME }), client: documents, close };
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
