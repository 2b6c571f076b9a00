import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Secret } from '../../layers/engine/secret.js';
import type { CredentialStore } from '../../layers/engine/stores/types.js';

/**
 * The secrets-never-leak search: collect every password the stores ever held, and look
 * for each one in everything the product wrote elsewhere. Invariant 1 of the design.
 */

/** Captures everything written to stdout and stderr (the structured logs go there) until restored. */
export function captureOutput(): { text(): string; restore(): void } {
  const chunks: string[] = [];
  const original = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  const capture = (chunk: unknown) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  return {
    text: () => chunks.join(''),
    restore: () => {
      process.stdout.write = original.out;
      process.stderr.write = original.err;
    },
  };
}

/**
 * Wraps a credential store so that every value written through it is remembered:
 * that is every password the engine generates (invariant 2 stores each before use),
 * also the ones later discarded, which no longer carry a stage.
 */
export function recordingStore<T extends CredentialStore>(store: T): { store: T; written: Set<string> } {
  const written = new Set<string>();
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'putPending') return (id: string, v: string, secret: Secret) => (written.add(secret.reveal()), target.putPending(id, v, secret));
      if (prop === 'createSecret') return (name: string, secret: Secret, o?: never) => (written.add(secret.reveal()), target.createSecret(name, secret, o));
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return { store: wrapped, written };
}

/** Every value of every version of the given secrets that still carries a stage. */
export async function everyStoredPassword(credentials: CredentialStore, secretIds: Iterable<string>): Promise<string[]> {
  const out: string[] = [];
  for (const id of secretIds) {
    for (const v of await credentials.listVersions(id).catch(() => [])) {
      out.push((await credentials.getValue(id, { versionId: v.versionId })).value.reveal());
    }
  }
  return out;
}

/** Every item of a DynamoDB table, as JSON text. */
export async function scanTable(endpoint: string, tableName: string, region = 'us-east-1'): Promise<string> {
  const client = new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const items: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ...(start ? { ExclusiveStartKey: start as never } : {}) }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  client.destroy();
  return JSON.stringify(items);
}

/** The text of every file under a folder (e.g. the embedded store's data). */
export function filesText(dir: string): string {
  const parts: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else parts.push(readFileSync(p).toString('latin1'), readFileSync(p).toString('utf8'));
    }
  };
  walk(dir);
  return parts.join('\n');
}

/** The passwords (at least 4 characters) found in the haystack, with where: empty means no leak. */
export function findLeaks(passwords: Iterable<string>, haystacks: Record<string, string>): string[] {
  const leaks: string[] = [];
  for (const pw of passwords) {
    if (pw.length < 4) continue;
    for (const [where, text] of Object.entries(haystacks)) {
      if (text.includes(pw) || text.includes(JSON.stringify(pw).slice(1, -1))) leaks.push(`a password of ${pw.length} characters appears in ${where}`);
    }
  }
  return leaks;
}
