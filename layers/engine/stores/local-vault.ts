import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidConfigurationError, NotFoundError } from '../errors.js';
import { Secret } from '../secret.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, type CredentialStore, type SecretVersionInfo, keptLabel } from './types.js';
import { FORMAT, VaultIntegrityError, type StoredVersion, type VaultFile, type VaultRecords } from './vault-format.js';
import { JournalVaultRecords } from './vault-journal.js';

export { VaultIntegrityError, type VaultRecords } from './vault-format.js';
export { VAULT_JOURNAL_FILE } from './vault-journal.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
/** Versions without a label are kept (a retried putPending must find them) until a secret has more than this many. */
const MAX_VERSIONS = 20;

/**
 * The embedded default's credential vault: Secrets Manager's version and label semantics, every
 * value sealed with AES-256-GCM. The secret id and version id are the additional authenticated
 * data, so a sealed value moved to another secret or version fails to open. Its secrets are kept
 * by a VaultRecords (the embedded database; a journal folder given as `dir`): each operation reads
 * the secret, checks and opens what it uses, and writes it back changed in one step, so a change
 * that fails leaves the vault as it was, and two processes changing one secret do so one after the
 * other.
 *
 * Durability: a new secret, a pending version, a discarded or kept one, a release and a deletion
 * are answered once they would survive a crash of the machine: a password is never sent before
 * its pending version is on disk. A promotion is answered once it would survive a crash of the
 * process: should the machine crash first, the pending version comes back, which the next reset
 * proves and promotes.
 */
export class LocalVault implements CredentialStore {
  readonly #records: VaultRecords;
  readonly #key: Buffer;
  readonly #keyId: string;

  constructor(options: { key: Buffer } & ({ records: VaultRecords } | { dir: string })) {
    if (options.key.length !== KEY_BYTES) {
      throw new InvalidConfigurationError('key', `the vault key must be ${KEY_BYTES} bytes, not ${options.key.length}`);
    }
    this.#records = 'records' in options ? options.records : new JournalVaultRecords(options.dir);
    this.#key = Buffer.from(options.key);
    this.#keyId = createHmac('sha256', this.#key).update('rpr-vault key id').digest('hex').slice(0, 16);
  }

  async createSecret(name: string, value: Secret, options: { description?: string; tags?: Record<string, string> } = {}): Promise<string> {
    if (!/^[A-Za-z0-9/_+=.@:-]{1,512}$/.test(name)) {
      throw new InvalidConfigurationError('name', 'a secret name may hold only letters, digits and / _ + = . @ : - (at most 512)');
    }
    return this.#use(name, 'durable', (existing) => {
      if (existing) throw new InvalidConfigurationError('name', `secret ${name} already exists`);
      const now = new Date().toISOString();
      const file: VaultFile = {
        format: FORMAT,
        secretId: name,
        keyId: this.#keyId,
        ...(options.description !== undefined ? { description: options.description } : {}),
        ...(options.tags !== undefined ? { tags: options.tags } : {}),
        createdAt: now,
        versions: [this.#seal(name, randomUUID(), value, [AWSCURRENT])],
      };
      return { file, result: name };
    });
  }

  getValue(secretId: string, selector: { versionId?: string; stage?: string } = {}): Promise<{ versionId: string; value: Secret; stages: readonly string[] }> {
    return this.#change(secretId, 'read', (file) => {
      const stage = selector.stage ?? (selector.versionId === undefined ? AWSCURRENT : undefined);
      const version = file.versions.find(
        (v) => (selector.versionId === undefined || v.versionId === selector.versionId) && (stage === undefined || v.stages.includes(stage)),
      );
      if (!version) {
        const what = [selector.versionId && `version ${selector.versionId}`, stage && `stage ${stage}`].filter(Boolean).join(', ');
        throw new NotFoundError('secretId', `secret ${secretId} has no ${what}`);
      }
      return { versionId: version.versionId, value: this.#open(secretId, version), stages: [...version.stages] };
    });
  }

  listVersions(secretId: string): Promise<SecretVersionInfo[]> {
    return this.#change(secretId, 'read', (file) => file.versions.filter((v) => v.stages.length > 0).map((v) => ({ versionId: v.versionId, stages: [...v.stages] })));
  }

  async putPending(secretId: string, versionId: string, value: Secret): Promise<boolean> {
    checkVersionId(versionId);
    return this.#change(secretId, 'durable', (file) => {
      if (file.versions.some((v) => v.versionId === versionId)) return false;
      removeStage(file, AWSPENDING);
      file.versions.push(this.#seal(secretId, versionId, value, [AWSPENDING]));
      return true;
    });
  }

  /** `current` is not needed here: the vault reads its labels with the value, in one record. */
  promote(secretId: string, versionId: string, _options: { current?: string } = {}): Promise<void> {
    // Surviving a crash of the process is enough: should the machine crash first, the pending
    // version comes back, which the next reset proves and promotes (putPending is durable).
    return this.#change(secretId, 'write', (file) => {
      const target = file.versions.find((v) => v.versionId === versionId);
      if (!target) throw new NotFoundError('secretId', `secret ${secretId} has no version ${versionId}`);
      // As on Secrets Manager: AWSPENDING stays on the promoted version, where it means nothing.
      if (target.stages.includes(AWSCURRENT)) return unchanged;
      const current = file.versions.find((v) => v.stages.includes(AWSCURRENT));
      removeStage(file, AWSPREVIOUS);
      if (current) current.stages = [...current.stages.filter((s) => s !== AWSCURRENT), AWSPREVIOUS];
      target.stages.push(AWSCURRENT);
    });
  }

  discardPending(secretId: string, versionId: string): Promise<void> {
    return this.#change(secretId, 'durable', (file) => {
      const target = file.versions.find((v) => v.versionId === versionId);
      if (!target?.stages.includes(AWSPENDING)) return unchanged;
      target.stages = target.stages.filter((s) => s !== AWSPENDING);
    });
  }

  keep(secretId: string, versionId: string): Promise<string> {
    const label = keptLabel(versionId);
    return this.#change(secretId, 'durable', (file) => {
      const target = file.versions.find((v) => v.versionId === versionId);
      if (!target) throw new NotFoundError('versionId', `secret "${secretId}" has no version ${versionId}`);
      target.stages = [...target.stages.filter((s) => s !== AWSPENDING && s !== label), label];
      return label;
    });
  }

  release(secretId: string, versionId: string): Promise<void> {
    return this.#change(secretId, 'durable', (file) => {
      const target = file.versions.find((v) => v.versionId === versionId);
      if (!target?.stages.includes(keptLabel(versionId))) return unchanged;
      target.stages = target.stages.filter((s) => s !== keptLabel(versionId));
    });
  }

  deleteSecret(secretId: string): Promise<void> {
    return this.#use(secretId, 'durable', (file) => (file ? { file: null, result: undefined } : { result: undefined }));
  }

  /** Closes the records (the journal: waits for its last write and fsyncs); an operation after that is refused. */
  async close(): Promise<void> {
    await this.#records.close();
  }

  // ---- sealing ---------------------------------------------------------------------------------

  #seal(secretId: string, versionId: string, value: Secret, stages: string[]): StoredVersion {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(additionalData(secretId, versionId));
    const ciphertext = Buffer.concat([cipher.update(value.reveal(), 'utf8'), cipher.final()]);
    return {
      versionId,
      stages,
      createdAt: new Date().toISOString(),
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  }

  #open(secretId: string, version: StoredVersion): Secret {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(version.iv, 'base64'));
      decipher.setAAD(additionalData(secretId, version.versionId));
      decipher.setAuthTag(Buffer.from(version.tag, 'base64'));
      return new Secret(Buffer.concat([decipher.update(Buffer.from(version.ciphertext, 'base64')), decipher.final()]).toString('utf8'));
    } catch {
      // The cause (OpenSSL's message) says nothing useful and is left out on purpose.
      throw new VaultIntegrityError(
        'secretId',
        `version ${version.versionId} of secret ${secretId} failed authentication: the vault file was altered or corrupted`,
      );
    }
  }

  // ---- the records -----------------------------------------------------------------------------

  /**
   * `body` on an existing secret (NotFoundError naming `secretId` otherwise); what it returns is
   * the answer, and the secret as `body` left it is stored unless it returned `unchanged` (or
   * `mode` is `read`). Old unlabelled versions are pruned as it is stored.
   */
  #change<T>(secretId: string, mode: 'read' | 'write' | 'durable', body: (file: VaultFile) => T): Promise<Exclude<T, typeof unchanged>> {
    return this.#use(secretId, mode, (file) => {
      if (!file) throw new NotFoundError('secretId', `secret ${secretId} was not found`);
      const result = body(file);
      if (result === unchanged || mode === 'read') return { result: (result === unchanged ? undefined : result) as Exclude<T, typeof unchanged> };
      prune(file);
      return { file, result: result as Exclude<T, typeof unchanged> };
    });
  }

  /** The records' `use`, refusing a secret sealed with another key before `body` sees it. */
  #use<T>(secretId: string, mode: 'read' | 'write' | 'durable', body: (file: VaultFile | undefined) => { file?: VaultFile | null; result: T }): Promise<T> {
    return this.#records.use(secretId, mode, (file) => {
      if (file && file.keyId !== this.#keyId) {
        throw new InvalidConfigurationError(
          'RPR_VAULT_KEY',
          `secret ${secretId} was sealed with another vault key (key id ${file.keyId}, this key is ${this.#keyId})`,
        );
      }
      return body(file);
    });
  }
}

/** What a change's body returns when it changed nothing (so nothing is written). */
const unchanged: unique symbol = Symbol('unchanged');

/**
 * The vault key: RPR_VAULT_KEY (32 bytes, base64 or hex) if set; otherwise the key file,
 * created with 32 random bytes (base64, mode 0600) on first use. A key file that group or
 * others may read is refused. Errors never contain key material.
 */
export function loadVaultKey(options: { envValue?: string; keyFile: string }): Buffer {
  if (options.envValue !== undefined && options.envValue.trim() !== '') {
    return decodeKey(options.envValue, 'RPR_VAULT_KEY');
  }
  const { keyFile } = options;
  try {
    const fd = openSync(keyFile, 'r');
    try {
      const mode = fstatSync(fd).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new InvalidConfigurationError(
          'keyFile',
          `vault key file ${keyFile} may be read by group or others (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 on it`,
        );
      }
      return decodeKey(readFileSync(fd, 'utf8'), 'keyFile');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (!isMissing(e)) throw e;
  }
  mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  let fd: number;
  try {
    fd = openSync(keyFile, 'wx', 0o600);
  } catch (e) {
    // Another process created it first: use theirs.
    if (e instanceof Error && (e as NodeJS.ErrnoException).code === 'EEXIST') return loadVaultKey({ keyFile });
    throw e;
  }
  try {
    chmodSync(keyFile, 0o600);
    writeSync(fd, `${key.toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return key;
}

function decodeKey(text: string, field: string): Buffer {
  const trimmed = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) key = Buffer.from(trimmed, 'base64');
  if (!key || key.length !== KEY_BYTES) {
    throw new InvalidConfigurationError(
      field,
      `the vault key must be ${KEY_BYTES} bytes, written as base64 or as 64 hex digits` +
        (key ? ` (this one decodes to ${key.length} bytes)` : ' (this one is neither)'),
    );
  }
  return key;
}

function additionalData(secretId: string, versionId: string): Buffer {
  return Buffer.from(JSON.stringify([FORMAT, secretId, versionId]), 'utf8');
}

function checkVersionId(versionId: string): void {
  // Secrets Manager's ClientRequestToken: 32 to 64 characters.
  if (versionId.length < 32 || versionId.length > 64) {
    throw new InvalidConfigurationError('versionId', 'a version id must be 32 to 64 characters long');
  }
}

function removeStage(file: VaultFile, stage: string): void {
  for (const v of file.versions) v.stages = v.stages.filter((s) => s !== stage);
}

function prune(file: VaultFile): void {
  while (file.versions.length > MAX_VERSIONS) {
    const oldest = file.versions.findIndex((v) => v.stages.length === 0);
    if (oldest < 0) return;
    file.versions.splice(oldest, 1);
  }
}

function isMissing(e: unknown): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === 'ENOENT';
}
