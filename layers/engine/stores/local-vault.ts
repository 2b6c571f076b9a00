import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncDir, Journal, type JournalKind } from './local-journal.js';
import { InvalidConfigurationError, NotFoundError } from '../errors.js';
import { Secret } from '../secret.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, type CredentialStore, type SecretVersionInfo, keptLabel } from './types.js';

const FORMAT = 'rpr-vault/1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
/** Versions without a label are kept (a retried putPending must find them) until a secret has more than this many. */
const MAX_VERSIONS = 20;
/** The vault's journal, in its folder. */
export const VAULT_JOURNAL_FILE = 'vault.jsonl';
const VAULT_JOURNAL: JournalKind = { name: 'vault journal', header: JSON.stringify({ rpr: 'vault-journal', version: 1 }) };
/** A secret's file, as vaults before the journal kept them: the SHA-256 of its id, in hex. */
const SECRET_FILE = /^[0-9a-f]{64}\.json$/;

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

/** One secret: its versions, sealed. A line of the journal holds one whole, as it is after a change. */
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

/** A line of the journal: a secret as it is after a change, or that it was deleted. */
type VaultJournalEntry = VaultFile | { deleted: string };

/**
 * The embedded default's credential vault: Secrets Manager's version and label semantics, every
 * value sealed with AES-256-GCM. The secret id and version id are the additional authenticated
 * data, so a sealed value moved to another secret or version fails to open.
 *
 * Its folder holds one file, `vault.jsonl` (mode 0600, folder 0700), a journal (local-journal.ts):
 * each change appends one line, the secret as it is after it, values sealed; the last line of a
 * secret is what it holds. The folder has one writer, the instance that opened it (openEmbeddedStores
 * opens it beside the state store, under the folder's lock, which keeps a second opener out, in
 * another process or this one; openMemoryStores in a temporary folder of its own), which reads the
 * journal once, on its first operation, and keeps every secret in memory, sealed as on disk; each
 * operation checks and opens what it uses as if it had just been read, and keeps a change only
 * once its line is written, so a change that fails leaves the vault as it was.
 *
 * Durability: a new secret, a pending version, a discarded or kept one, a release and a deletion
 * are answered once their line is on disk (fdatasync, one for every change written together): a
 * password is never sent before its pending version would survive a crash of the machine.
 * A promotion is answered once written, without waiting for the disk: should the machine crash
 * before it gets there, the pending version comes back, which the next reset proves and promotes.
 * When most of the journal's lines are superseded, it is rewritten as it is opened. A vault kept
 * as one file per secret (before the journal) is moved into it on its first open (#opened).
 */
export class LocalVault implements CredentialStore {
  readonly #dir: string;
  readonly #key: Buffer;
  readonly #keyId: string;
  #journal: Journal | undefined;
  /** The tail of each secret's queue of operations: one at a time per secret. */
  readonly #queues = new Map<string, Promise<unknown>>();
  /** Secret id → the secret as its last line in the journal holds it (never changed in place). */
  readonly #files = new Map<string, VaultFile>();

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
      if (this.#read(name)) throw new InvalidConfigurationError('name', `secret ${name} already exists`);
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
      const file = this.#load(secretId);
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
      const file = this.#load(secretId);
      return file.versions.filter((v) => v.stages.length > 0).map((v) => ({ versionId: v.versionId, stages: [...v.stages] }));
    });
  }

  async putPending(secretId: string, versionId: string, value: Secret): Promise<boolean> {
    checkVersionId(versionId);
    return this.#serialize(secretId, async () => {
      const file = this.#load(secretId);
      if (file.versions.some((v) => v.versionId === versionId)) return false;
      removeStage(file, AWSPENDING);
      file.versions.push(this.#seal(secretId, versionId, value, [AWSPENDING]));
      await this.#write(file);
      return true;
    });
  }

  /** `current` is not needed here: the vault reads its labels with the value, in one file. */
  promote(secretId: string, versionId: string, _options: { current?: string } = {}): Promise<void> {
    return this.#serialize(secretId, async () => {
      const file = this.#load(secretId);
      const target = file.versions.find((v) => v.versionId === versionId);
      if (!target) throw new NotFoundError('secretId', `secret ${secretId} has no version ${versionId}`);
      // As on Secrets Manager: AWSPENDING stays on the promoted version, where it means nothing.
      if (target.stages.includes(AWSCURRENT)) return;
      const current = file.versions.find((v) => v.stages.includes(AWSCURRENT));
      removeStage(file, AWSPREVIOUS);
      if (current) current.stages = [...current.stages.filter((s) => s !== AWSCURRENT), AWSPREVIOUS];
      target.stages.push(AWSCURRENT);
      // Not waiting for the disk: should the machine crash first, the pending version comes back,
      // which the next reset proves and promotes (putPending's line is on disk before any change).
      await this.#write(file, { sync: false });
    });
  }

  discardPending(secretId: string, versionId: string): Promise<void> {
    return this.#serialize(secretId, async () => {
      const file = this.#load(secretId);
      const target = file.versions.find((v) => v.versionId === versionId);
      if (!target?.stages.includes(AWSPENDING)) return;
      target.stages = target.stages.filter((s) => s !== AWSPENDING);
      await this.#write(file);
    });
  }

  keep(secretId: string, versionId: string): Promise<string> {
    const label = keptLabel(versionId);
    return this.#serialize(secretId, async () => {
      const file = this.#load(secretId);
      const target = file.versions.find((v) => v.versionId === versionId);
      if (!target) throw new NotFoundError('versionId', `secret "${secretId}" has no version ${versionId}`);
      target.stages = [...target.stages.filter((s) => s !== AWSPENDING && s !== label), label];
      await this.#write(file);
      return label;
    });
  }

  release(secretId: string, versionId: string): Promise<void> {
    return this.#serialize(secretId, async () => {
      const file = this.#load(secretId);
      const target = file.versions.find((v) => v.versionId === versionId);
      if (!target?.stages.includes(keptLabel(versionId))) return;
      target.stages = target.stages.filter((s) => s !== keptLabel(versionId));
      await this.#write(file);
    });
  }

  deleteSecret(secretId: string): Promise<void> {
    return this.#serialize(secretId, async () => {
      if (!this.#read(secretId)) return;
      await this.#opened().append({ deleted: secretId } satisfies VaultJournalEntry, { sync: true });
      this.#files.delete(secretId);
    });
  }

  /** Waits for the journal's last write, fsyncs and closes it; an operation after that is refused. */
  async close(): Promise<void> {
    await this.#journal?.close();
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

  // ---- the journal -----------------------------------------------------------------------------

  /** The secret, to change: a copy of what the vault holds. */
  #load(secretId: string): VaultFile {
    const file = this.#read(secretId);
    if (!file) throw new NotFoundError('secretId', `secret ${secretId} was not found`);
    return { ...file, versions: file.versions.map((v) => ({ ...v, stages: [...v.stages] })) };
  }

  #read(secretId: string): VaultFile | undefined {
    this.#opened();
    const file = this.#files.get(secretId);
    if (file && file.keyId !== this.#keyId) {
      throw new InvalidConfigurationError(
        'RPR_VAULT_KEY',
        `secret ${secretId} was sealed with another vault key (key id ${file.keyId}, this key is ${this.#keyId})`,
      );
    }
    return file;
  }

  /** Appends the secret as changed; keeps it once its line is written (and, unless told not to, on disk). */
  async #write(file: VaultFile, options: { sync?: boolean } = {}): Promise<void> {
    prune(file);
    await this.#opened().append(file satisfies VaultJournalEntry, { sync: options.sync !== false });
    this.#files.set(file.secretId, file);
  }

  /** The journal, opened (and read, compacted or migrated into) on the first operation. */
  #opened(): Journal {
    if (this.#journal) return this.#journal;
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    chmodSync(this.#dir, 0o700);
    const path = join(this.#dir, VAULT_JOURNAL_FILE);
    // A vault kept as one file per secret (before the journal): every file is read and checked
    // before anything is written, so a bad one refuses the migration and changes nothing.
    const migrating = !existsSync(path);
    const names = readdirSync(this.#dir).filter((f) => SECRET_FILE.test(f));
    const old = names.map((name) => this.#readSecretFile(name, migrating ? 'nothing was migrated' : 'move it aside'));
    if (migrating && old.length > 0) Journal.write(path, old, VAULT_JOURNAL);
    const entries = Journal.load(path, VAULT_JOURNAL);
    this.#files.clear();
    entries.forEach((entry, i) => this.#apply(entry, `line ${i + 2} of ${path}`));
    if (old.length > 0) this.#moveAside(names, old);
    if (entries.length - this.#files.size > Math.max(100, this.#files.size)) Journal.write(path, this.#files.values(), VAULT_JOURNAL);
    this.#journal = Journal.open(path, VAULT_JOURNAL);
    return this.#journal;
  }

  #apply(entry: unknown, where: string): void {
    if (typeof entry === 'object' && entry !== null && typeof (entry as { deleted?: unknown }).deleted === 'string') {
      this.#files.delete((entry as { deleted: string }).deleted);
      return;
    }
    if (!isVaultFile(entry)) throw new VaultIntegrityError('secretId', `${where} is not a ${FORMAT} secret`);
    this.#files.set(entry.secretId, entry);
  }

  /**
   * Moves the files a migration took in aside, into `files.migrated-<time>/` (kept, sealed as they
   * were, for whoever wants them; nothing reads them again). A file there beside the journal that
   * is not what the journal holds for its secret (written by an rpr from before the journal, after
   * the migration) refuses the open, naming it: the journal cannot tell which is newer.
   */
  #moveAside(names: readonly string[], files: readonly VaultFile[]): void {
    for (const [i, file] of files.entries()) {
      if (JSON.stringify(this.#files.get(file.secretId)) !== JSON.stringify(file)) {
        throw new VaultIntegrityError(
          'secretId',
          `the vault file ${join(this.#dir, names[i]!)} (secret ${file.secretId}) is not what the vault journal holds for it; it was written by an rpr from before the journal, after the vault was moved into ${VAULT_JOURNAL_FILE}. Move one of the two aside.`,
        );
      }
    }
    const aside = join(this.#dir, `files.migrated-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    mkdirSync(aside, { mode: 0o700 });
    for (const name of names) renameSync(join(this.#dir, name), join(aside, name));
    fsyncDir(this.#dir);
  }

  /** A secret's file from before the journal, checked: a vault file for the secret its name is the digest of. */
  #readSecretFile(name: string, advice: string): VaultFile {
    const where = join(this.#dir, name);
    let file: unknown;
    try {
      file = JSON.parse(readFileSync(where, 'utf8'));
    } catch {
      throw new VaultIntegrityError('secretId', `the vault file ${where} is not valid JSON; ${advice}`);
    }
    if (!isVaultFile(file) || `${secretDigest(file.secretId)}.json` !== name) {
      throw new VaultIntegrityError('secretId', `the vault file ${where} is not a ${FORMAT} file for the secret its name is the digest of; ${advice}`);
    }
    return file;
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

function isVaultFile(x: unknown): x is VaultFile {
  const file = x as Partial<VaultFile> | null;
  return typeof file === 'object' && file !== null && file.format === FORMAT && typeof file.secretId === 'string' && Array.isArray(file.versions);
}

function secretDigest(secretId: string): string {
  return createHash('sha256').update(secretId, 'utf8').digest('hex');
}

function isMissing(e: unknown): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === 'ENOENT';
}
