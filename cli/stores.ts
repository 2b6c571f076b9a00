import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { openAwsStores, type AwsStoresOptions } from '../layers/engine/stores/aws.js';
import { loadVaultKey } from '../layers/engine/stores/local-vault.js';
import { openEmbeddedStores } from '../layers/engine/stores/embedded.js';
import { secretsWriteRateFrom } from '../layers/workflow/environment.js';
import type { CredentialStore, StateStore } from '../layers/engine/stores/types.js';

export interface StoreOptions {
  store: 'embedded' | 'aws';
  dataDir?: string;
  table?: string;
  region?: string;
  endpoint?: string;
  /** For --store aws; default: the SDK's credential chain. */
  credentials?: AwsStoresOptions['credentials'];
  /** For --store aws: Secrets Manager writes per second; default $RPR_SECRETS_WRITE_RATE, else the stores' default. */
  secretsWriteRate?: number;
}

export interface Stores {
  state: StateStore;
  credentials: CredentialStore;
  close(): Promise<void>;
}

/** The embedded default keeps everything under one folder: RPR_HOME, else ~/.rpr. */
export function defaultDataDir(): string {
  return process.env.RPR_HOME ?? join(homedir(), '.rpr');
}

export async function openStores(o: StoreOptions): Promise<Stores> {
  if (o.store === 'aws') {
    const secretsWriteRate = o.secretsWriteRate ?? secretsWriteRateFrom();
    return openAwsStores({
      tableName: o.table ?? process.env.RPR_TABLE ?? 'rpr-state',
      ...(o.region ? { region: o.region } : {}),
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.credentials ? { credentials: o.credentials } : {}),
      ...(secretsWriteRate ? { secretsWriteRate } : {}),
    });
  }
  const dir = o.dataDir ?? defaultDataDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const vaultKey = loadVaultKey({ envValue: process.env.RPR_VAULT_KEY, keyFile: join(dir, 'vault.key') });
  return openEmbeddedStores({ dir, vaultKey });
}
