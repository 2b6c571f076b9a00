import { InvalidConfigurationError } from '../errors.js';

/** The format of a sealed secret, wherever a vault keeps it (the embedded database, a journal, a file). */
export const FORMAT = 'rpr-vault/1';

/** The vault could not authenticate stored data: the file was altered or corrupted. */
export class VaultIntegrityError extends InvalidConfigurationError {}

export interface StoredVersion {
  versionId: string;
  stages: string[];
  createdAt: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** One secret: its versions, sealed (local-vault.ts), kept and written whole. */
export interface VaultFile {
  format: typeof FORMAT;
  secretId: string;
  /** Identifies the key the values were encrypted with (an HMAC of the key, not the key). */
  keyId: string;
  description?: string;
  tags?: Record<string, string>;
  createdAt: string;
  versions: StoredVersion[];
}

export function isVaultFile(x: unknown): x is VaultFile {
  const file = x as Partial<VaultFile> | null;
  return typeof file === 'object' && file !== null && file.format === FORMAT && typeof file.secretId === 'string' && Array.isArray(file.versions);
}

/** A copy of a secret that its caller may change. */
export function copyOf(file: VaultFile): VaultFile {
  return { ...file, versions: file.versions.map((v) => ({ ...v, stages: [...v.stages] })) };
}

/**
 * Where a vault keeps its secrets, each as one VaultFile (values sealed): the embedded database's
 * `vault` table (sqlite-vault.ts), or a journal file (vault-journal.ts, the format before it).
 */
export interface VaultRecords {
  /**
   * Runs `body` with the secret as stored (undefined if missing; a copy it may change) and stores
   * what it returns as `file` (null: deletes the secret; undefined: changes nothing), in one step
   * against every other change of the secret, in this process or another. `mode` is `read` when
   * `body` changes nothing; `durable` when the change must survive a crash of the machine before
   * the promise resolves, `write` when surviving a crash of the process is enough.
   */
  use<T>(secretId: string, mode: 'read' | 'write' | 'durable', body: (file: VaultFile | undefined) => { file?: VaultFile | null; result: T }): Promise<T>;
  close(): Promise<void>;
}
