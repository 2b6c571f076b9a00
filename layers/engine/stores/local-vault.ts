import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeSync, fsyncSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidConfigurationError, NotFoundError } from '../errors.js';
import { Secret } from '../secret.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, type CredentialStore, type SecretVersionInfo, keptLabel } from './types.js';

const FORMAT = 'rpr-vault/1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
/** Versions without a label are kept (a retried putPending must find them) until a secret has more than this many. */
const MAX_VERSIONS = 20;
/** Files whose text an instance keeps after reading or writing them (the most recently used). */
const CACHED_FILES = 1000;

/** The vault could not authenticate stored data: the file was altered or corrupted. */
export class VaultIntegrityError extends InvalidConfigurationError {}

interface StoredVersion {
  versionId: string;
  stages: string[];
  createdAt: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

interface VaultFile {
  format: typeof FORMAT;
  secretId: string;
  /** Identifies the key the values were encrypted with (an HMAC of the key, not the key). */
  keyId: string;
  description?: string;
  tags?: Record<string, string>;
  createdAt: string;
  versions: StoredVersion[];
}

/**
 * The embedded default's credential vault: Secrets Manager's version and label semantics,
 * one JSON file per secret, every value sealed with AES-256-GCM. The secret id and version id
 * are the additional authenticated data, so a sealed value moved to another secret or version
 * fails to open. File names are digests of secret ids; values appear nowhere in clear.
 *
 * The folder has one writer, the instance that opened it (openEmbeddedStores opens it beside the
 * state store, under the folder's lock, which keeps a second opener out, in another process or
 * this one; openMemoryStores in a temporary folder of its own), so what it last read or wrote is
 * what the file holds: it keeps the text of the files it used last and reads those from disk
 * only once, instead of on every operation (a reset makes four). The text is the file's, values
 * sealed as on disk; each operation parses and checks it as if it had just been read, so a
 * change that fails leaves the kept text as it was.
 */
export class LocalVault implements CredentialStore {
  readonly #dir: string;
  readonly #key: Buffer;
  readonly #keyId: string;
  #dirReady: Promise<void> | undefined;
  /** The folder's sync in progress, and the next one, which waiting writers share (see #syncFolder). */
  #folderSync: Promise<void> | undefined;
  #nextFolderSync: Promise<void> | undefined;
  /** The tail of each secret's queue of operations: one at a time per secret. */
  readonly #queues = new Map<string, Promise<unknown>>();
  /** Secret id → the text of its file as last read or written here, least recently used first. */
  readonly #texts = new Map<string, string>();

  constructor(options: { dir: string; key: Buffer }) {
    if (options.key.length !== KEY_BYTES) {
      throw new InvalidConfigurationError('key', `the vault key must be ${KEY_BYTES} bytes, not ${options.key.length}`);
    }
    this.#dir = options.dir;
    this.#key = Buffer.from(options.key);
    this.#keyId = createHmac('sha256', this.#key).update('rpr-vault key id').digest('hex').slice(0, 16);
  }

  async createSecret(name: string, value: Secret, options: { description?: string; tags?: Record<string, string> } = {}): Promise<string> {
    if (!/^[A-Za-z0-9/_+=.@:-]{1,512}$/.test(name)) {
      throw new InvalidConfigurationError('name', 'a secret name may hold only letters, digits and / _ + = . @ : - (at most 512)');
    }
    return this.#serialize(name, async () => {
      if (await this.#read(name)) throw new InvalidConfigurationError('name', `secret ${name} already exists`);
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
      await this.#write(file);
      return name;
    });
  }

  getValue(secretId: string, selector: { versionId?: string; stage?: string } = {}): Promise<{ versionId: string; value: Secret; stages: readonly string[] }> {
    return this.#serialize(secretId, async () => {
      const file = await this.#load(secretId);
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
    return this.#serialize(secretId, async () => {
      const file = await this.#load(secretId);
      return file.versions.filter((v) => v.stages.length > 0).map((v) => ({ versionId: v.versionId, stages: [...v.stages] }));
    });
  }

  async putPending(secretId: string, versionId: string, value: Secret): Promise<boolean> {
    checkVersionId(versionId);
    return this.#serialize(secretId, async () => {
      const file = await this.#load(secretId);
      if (file.versions.some((v) => v.versionId === versionId)) return false;
      removeStage(file, AWSPENDING);
      file.versions.push(this.#seal(secretId, versionId, value, [AWSPENDING]));
      prune(file);
      await this.#write(file);
      return true;
    });
  }

  /** `current` is not needed here: the vault reads its labels with the value, in one file. */
  promote(secretId: string, versionId: string, _options: { current?: string } = {}): Promise<void> {
    return this.#serialize(secretId, async () => {
      const file = await this.#load(secretId);
      const target = file.versions.find((v) => v.versionId === versionId);
      if (!target) throw new NotFoundError('secretId', `secret ${secretId} has no version ${versionId}`);
      // As on Secrets Manager: AWSPENDING stays on the promoted version, where it means nothing.
      if (target.stages.includes(AWSCURRENT)) return;
      const current = file.versions.find((v) => v.stages.includes(AWSCURRENT));
      removeStage(file, AWSPREVIOUS);
      if (current) current.stages = [...current.stages.filter((s) => s !== AWSCURRENT), AWSPREVIOUS];
      target.stages.push(AWSCURRENT);
      // The file as renamed is whole either way; should the machine crash before the folder is
      // synced, the old file comes back with the pending version, which the next reset proves and
      // promotes: no folder sync is waited for here (putPending's is).
      await this.#write(file, { renameDurable: false });
    });
  }

  discardPending(secretId: string, versionId: string): Promise<void> {
    return this.#serialize(secretId, async () => {
      const file = await this.#load(secretId);
      const target = file.versions.find((v) => v.versionId === versionId);
      if (!target?.stages.includes(AWSPENDING)) return;
      target.stages = target.stages.filter((s) => s !== AWSPENDING);
      await this.#write(file);
    });
  }

  keep(secretId: string, versionId: string): Promise<string> {
    const label = keptLabel(versionId);
    return this.#serialize(secretId, async () => {
      const file = await this.#load(secretId);
      const target = file.versions.find((v) => v.versionId === versionId);
      if (!target) throw new NotFoundError('versionId', `secret "${secretId}" has no version ${versionId}`);
      target.stages = [...target.stages.filter((s) => s !== AWSPENDING && s !== label), label];
      await this.#write(file);
      return label;
    });
  }

  release(secretId: string, versionId: string): Promise<void> {
    return this.#serialize(secretId, async () => {
      const file = await this.#load(secretId);
      const target = file.versions.find((v) => v.versionId === versionId);
      if (!target?.stages.includes(keptLabel(versionId))) return;
      target.stages = target.stages.filter((s) => s !== keptLabel(versionId));
      await this.#write(file);
    });
  }

  deleteSecret(secretId: string): Promise<void> {
    return this.#serialize(secretId, async () => {
      this.#texts.delete(secretId);
      try {
        await unlink(this.#path(secretId));
      } catch (e) {
        if (!isMissing(e)) throw e;
      }
    });
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

  // ---- files -----------------------------------------------------------------------------------

  #path(secretId: string): string {
    return join(this.#dir, `${createHash('sha256').update(secretId, 'utf8').digest('hex')}.json`);
  }

  async #load(secretId: string): Promise<VaultFile> {
    const file = await this.#read(secretId);
    if (!file) throw new NotFoundError('secretId', `secret ${secretId} was not found`);
    return file;
  }

  async #read(secretId: string): Promise<VaultFile | undefined> {
    let text = this.#texts.get(secretId);
    if (text === undefined) {
      try {
        text = await readFile(this.#path(secretId), 'utf8');
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
    }
    let file: VaultFile;
    try {
      file = JSON.parse(text) as VaultFile;
    } catch {
      throw new VaultIntegrityError('secretId', `the vault file of secret ${secretId} is not valid JSON`);
    }
    if (file.format !== FORMAT || file.secretId !== secretId || !Array.isArray(file.versions)) {
      throw new VaultIntegrityError('secretId', `the vault file of secret ${secretId} is not a ${FORMAT} file for this secret`);
    }
    if (file.keyId !== this.#keyId) {
      throw new InvalidConfigurationError(
        'RPR_VAULT_KEY',
        `secret ${secretId} was sealed with another vault key (key id ${file.keyId}, this key is ${this.#keyId})`,
      );
    }
    this.#remember(secretId, text);
    return file;
  }

  #remember(secretId: string, text: string): void {
    this.#texts.delete(secretId);
    this.#texts.set(secretId, text);
    if (this.#texts.size > CACHED_FILES) this.#texts.delete(this.#texts.keys().next().value!);
  }

  /**
   * Write a temporary file, flush it to disk, then rename it over the old one: a crash leaves one
   * or the other. Then, unless told not to, wait until the folder is synced, so the rename
   * survives a crash of the machine too.
   */
  async #write(file: VaultFile, options: { renameDurable?: boolean } = {}): Promise<void> {
    await this.#ensureDir();
    const path = this.#path(file.secretId);
    const text = `${JSON.stringify(file, null, 1)}\n`;
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      // wx: a file of our own, never one that was there before; flush: on disk before the rename.
      await writeFile(temporary, text, { encoding: 'utf8', mode: 0o600, flag: 'wx', flush: true });
      await rename(temporary, path);
    } catch (e) {
      await unlink(temporary).catch(() => undefined);
      throw e;
    }
    if (options.renameDurable !== false) await this.#syncFolder();
    // Kept once renamed into place: a write that failed before leaves the file, and the kept text, as they were.
    this.#remember(file.secretId, text);
  }

  /**
   * Syncs the folder, after every rename made so far. Writers that arrive while a sync runs share
   * the one that starts after it (their renames all precede its start), so accounts written at once
   * wait for one or two folder syncs, not one each.
   */
  #syncFolder(): Promise<void> {
    this.#nextFolderSync ??= (async () => {
      await this.#folderSync;
      this.#nextFolderSync = undefined;
      this.#folderSync = syncDirectory(this.#dir);
      await this.#folderSync;
    })();
    return this.#nextFolderSync;
  }

  #ensureDir(): Promise<void> {
    this.#dirReady ??= (async () => {
      await mkdir(this.#dir, { recursive: true, mode: 0o700 });
      await chmod(this.#dir, 0o700);
    })();
    return this.#dirReady;
  }

  /** Runs `operation` after every earlier operation on the same secret has settled. */
  #serialize<T>(secretId: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(secretId) ?? Promise.resolve();
    const result = previous.then(operation, operation);
    const tail = result.catch(() => undefined);
    this.#queues.set(secretId, tail);
    void tail.then(() => {
      if (this.#queues.get(secretId) === tail) this.#queues.delete(secretId);
    });
    return result;
  }
}

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

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not every file system lets a directory be synced; the rename is still atomic.
  }
}

function isMissing(e: unknown): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === 'ENOENT';
}
