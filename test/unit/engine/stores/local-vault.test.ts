import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidConfigurationError, NotFoundError } from '../../../../layers/engine/errors.js';
import { LocalVault, VAULT_JOURNAL_FILE, VaultIntegrityError, loadVaultKey } from '../../../../layers/engine/stores/local-vault.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, keptLabel } from '../../../../layers/engine/stores/types.js';
import { repoRoot } from '../../../../harness/servers/index.js';
import { credentialStoreContract, everyFormOf, password } from '../../../contracts/credential-store.js';

credentialStoreContract('LocalVault', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-vault-contract-'));
  return { store: new LocalVault({ dir: join(dir, 'vault'), key: randomBytes(32) }), close: async () => rmSync(dir, { recursive: true, force: true }) };
});

const io = vi.hoisted(() => ({ failSyncs: false }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  // fdatasync fails while io.failSyncs is set, as a disk that cannot write would.
  const fdatasync = (fd: number, callback: (e: NodeJS.ErrnoException | null) => void) =>
    io.failSyncs ? callback(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })) : fs.fdatasync(fd, callback);
  return { ...fs, default: { ...fs, fdatasync }, fdatasync };
});

/** The key the files under fixtures/vault-before-journal were sealed with (a test key, nothing else). */
const FIXTURE_KEY = Buffer.from('6f1c2a9e0b7d4e3f8a5c1b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5', 'hex');
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'vault-before-journal');

describe('LocalVault on disk', () => {
  let root: string;
  let dir: string;
  let key: Buffer;
  let vault: LocalVault;
  const journal = () => join(dir, VAULT_JOURNAL_FILE);
  const lines = () => readFileSync(journal(), 'utf8').trimEnd().split('\n');
  /** The journal's last line for the secret, parsed, and a function writing it back changed. */
  const lastLineOf = (secretId: string) => {
    const all = lines();
    const i = all.findLastIndex((l) => l.includes(`"secretId":${JSON.stringify(secretId)}`));
    const entry = JSON.parse(all[i]!);
    return { entry, put: () => writeFileSync(journal(), `${[...all.slice(0, i), JSON.stringify(entry), ...all.slice(i + 1)].join('\n')}\n`) };
  };
  // An instance keeps what it read and wrote; one opened afterwards reads the journal.
  const opened = () => new LocalVault({ dir, key });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'rpr-vault-test-'));
    dir = join(root, 'vault');
    key = randomBytes(32);
    vault = new LocalVault({ dir, key });
  });
  afterEach(async () => {
    io.failSyncs = false;
    await vault.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps one journal file, 0600 in a 0700 folder, a line per change; no value in clear or in base64', async () => {
    const first = password('first');
    const pending = password('pending');
    const id = await vault.createSecret('db/admin', first);
    await vault.putPending(id, randomUUID(), pending);
    await Promise.all(Array.from({ length: 10 }, () => vault.putPending(id, randomUUID(), password('p'))));

    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toEqual([VAULT_JOURNAL_FILE]);
    expect(statSync(journal()).mode & 0o777).toBe(0o600);
    expect(lines()).toHaveLength(1 + 12);
    const text = readFileSync(journal(), 'utf8');
    for (const value of [first, pending]) {
      expect(text).not.toContain(value.reveal());
      expect(text).not.toContain(Buffer.from(value.reveal()).toString('base64'));
    }
  });

  it('fails clearly, without the value, when a sealed value was altered', async () => {
    const first = password('first');
    const id = await vault.createSecret('s', first);
    const line = lastLineOf(id);
    const ciphertext = Buffer.from(line.entry.versions[0].ciphertext, 'base64');
    ciphertext[0]! ^= 0x01;
    line.entry.versions[0].ciphertext = ciphertext.toString('base64');
    line.put();

    const e = await opened().getValue(id).catch((x: unknown) => x);

    expect(e).toBeInstanceOf(VaultIntegrityError);
    expect((e as Error).message).toMatch(/altered or corrupted/);
    expect(everyFormOf(e)).not.toContain(first.reveal());
  });

  it('refuses a sealed value moved from another secret (the secret id is authenticated)', async () => {
    await vault.createSecret('a', password('a'));
    await vault.createSecret('b', password('b'));
    const from = lastLineOf('a').entry;
    const to = lastLineOf('b');
    to.entry.versions[0] = { ...from.versions[0] };
    to.put();

    await expect(opened().getValue('b')).rejects.toBeInstanceOf(VaultIntegrityError);
  });

  it('refuses a sealed value moved to another version of the same secret', async () => {
    const id = await vault.createSecret('s', password('current'));
    const token = randomUUID();
    await vault.putPending(id, token, password('pending'));
    const line = lastLineOf(id);
    const [current, pending] = line.entry.versions;
    line.entry.versions[1] = { ...current, versionId: pending.versionId, stages: pending.stages };
    line.put();

    await expect(opened().getValue(id, { versionId: token })).rejects.toBeInstanceOf(VaultIntegrityError);
  });

  it('refuses a journal line that is not a secret, naming the line', async () => {
    await vault.createSecret('s', password('a'));
    appendFileSync(journal(), '{"format":"something else"}\n');

    const e = await opened().getValue('s').catch((x: unknown) => x);

    expect(e).toBeInstanceOf(VaultIntegrityError);
    expect((e as Error).message).toContain(`line 3 of ${journal()}`);
  });

  it('a wrong key fails clearly, naming RPR_VAULT_KEY, and changes nothing', async () => {
    const id = await vault.createSecret('s', password('a'));
    const before = readFileSync(journal(), 'utf8');
    const other = new LocalVault({ dir, key: randomBytes(32) });

    const e = await other.getValue(id).catch((x: unknown) => x);
    await expect(other.putPending(id, randomUUID(), password('b'))).rejects.toBeInstanceOf(InvalidConfigurationError);

    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('RPR_VAULT_KEY');
    expect((e as Error).message).toMatch(/another vault key/);
    expect(readFileSync(journal(), 'utf8')).toBe(before);
    await other.close();
  });

  it('serializes concurrent operations on one secret: no update is lost', async () => {
    const ids = await Promise.all(['x', 'y'].map((n) => vault.createSecret(n, password(n))));
    const tokens = Array.from({ length: 15 }, () => randomUUID());

    await Promise.all(ids.flatMap((id) => tokens.map((t) => vault.putPending(id, t, password(t)))));

    for (const v of [vault, opened()]) {
      for (const id of ids) {
        for (const t of tokens) await expect(v.getValue(id, { versionId: t })).resolves.toMatchObject({ versionId: t });
        const stages = (await v.listVersions(id)).flatMap((x) => x.stages).sort();
        expect(stages).toEqual([AWSCURRENT, AWSPENDING]);
      }
    }
  });

  it('refuses a version id Secrets Manager would refuse', async () => {
    const id = await vault.createSecret('s', password('a'));
    const e = await vault.putPending(id, 'short', password('b')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('versionId');
  });

  it('a change the disk could not make durable is refused and not kept; the vault then refuses every change until opened again', async () => {
    const id = await vault.createSecret('s', password('current'));
    const token = randomUUID();
    io.failSyncs = true;

    await expect(vault.putPending(id, token, password('pending'))).rejects.toThrow(/could not write the vault journal.*EIO/);
    io.failSyncs = false;

    expect((await vault.listVersions(id)).flatMap((v) => v.stages)).toEqual([AWSCURRENT]);
    await expect(vault.putPending(id, randomUUID(), password('later'))).rejects.toThrow(/could not write the vault journal/);
    // Its line may have reached the file without reaching the disk: opened again, the vault shows
    // the version as pending, a stale AWSPENDING the engine proves or discards before any change.
    await expect(vault.close()).rejects.toThrow(/could not write the vault journal/);
    const reopened = opened();
    expect((await reopened.listVersions(id)).flatMap((v) => v.stages).sort()).toEqual([AWSCURRENT, AWSPENDING]);
    await reopened.close();
  });

  it('persists across instances with the same key', async () => {
    const first = password('first');
    const id = await vault.createSecret('s', first);

    const reopened = new LocalVault({ dir, key: Buffer.from(key) });

    expect((await reopened.getValue(id)).value.equals(first)).toBe(true);
    await reopened.close();
  });

  it('keeps a deletion: the secret is gone when opened again, and its name may be used again', async () => {
    await vault.createSecret('s', password('a'));
    await vault.deleteSecret('s');
    await vault.close();

    vault = opened();
    await expect(vault.getValue('s')).rejects.toBeInstanceOf(NotFoundError);
    const second = password('b');
    await vault.createSecret('s', second);
    expect((await opened().getValue('s')).value.equals(second)).toBe(true);
  });

  it('ignores a torn last line (a crash in the middle of a write) and appends cleanly after it', async () => {
    const id = await vault.createSecret('s', password('current'));
    await vault.close();
    appendFileSync(journal(), '{"format":"rpr-vault/1","secretId":"s","keyId":"');

    vault = opened();
    expect((await vault.listVersions(id)).flatMap((v) => v.stages)).toEqual([AWSCURRENT]);
    const token = randomUUID();
    await vault.putPending(id, token, password('pending'));
    await vault.close();

    vault = opened();
    expect((await vault.getValue(id, { stage: AWSPENDING })).versionId).toBe(token);
    expect(lines().every((l) => JSON.parse(l))).toBe(true);
  });

  it('compacts a journal of mostly superseded lines when opened: smaller, with the same answers', async () => {
    const current = password('current');
    const id = await vault.createSecret('s', current);
    let last = { token: '', value: current };
    for (let i = 0; i < 150; i++) {
      last = { token: randomUUID(), value: password(`p${i}`) };
      await vault.putPending(id, last.token, last.value);
    }
    await vault.close();
    const before = statSync(journal()).size;

    vault = opened();
    expect((await vault.getValue(id, { stage: AWSPENDING })).value.equals(last.value)).toBe(true);
    await vault.close();

    expect(statSync(journal()).size).toBeLessThan(before / 10);
    expect(lines()).toHaveLength(2);
    vault = opened();
    expect((await vault.getValue(id, { stage: AWSPENDING })).versionId).toBe(last.token);
    expect((await vault.getValue(id)).value.equals(current)).toBe(true);
  });

  it('keeps every pending version it acknowledged when its process is killed in the middle of writing', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/vault-writer.ts', dir], {
      cwd: repoRoot,
      env: { ...process.env, RPR_VAULT_KEY: key.toString('hex') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acknowledged = new Map<string, string>();
    let out = '';
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const complete = out.slice(0, out.lastIndexOf('\n') + 1).split('\n').filter((l) => / /.test(l));
        for (const l of complete) acknowledged.set(l.split(' ')[0]!, l.split(' ')[1]!);
        if (complete.length >= 200) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`the writer exited (${code}) before it was killed`)));
    });
    await exited;

    expect(acknowledged.size).toBe(4);
    for (const [secret, version] of acknowledged) {
      expect((await vault.getValue(secret, { versionId: version })).value.reveal()).toBe(`pending ${version}`);
    }
    const token = randomUUID();
    await vault.putPending('s0', token, password('after'));
    expect((await opened().getValue('s0', { stage: AWSPENDING })).versionId).toBe(token);
  }, 60_000);
});

describe('LocalVault moving a vault of one file per secret (before the journal) into the journal', () => {
  let root: string;
  let dir: string;
  const open = () => new LocalVault({ dir, key: FIXTURE_KEY });
  const fixtureFiles = readdirSync(FIXTURE).sort();

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'rpr-vault-migration-'));
    dir = join(root, 'vault');
    cpSync(FIXTURE, dir, { recursive: true });
    chmodSync(dir, 0o700);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const assertMigrated = async (vault: LocalVault) => {
    expect((await vault.getValue('db1/admin')).value.reveal()).toBe('admin-next');
    expect((await vault.getValue('db1/admin', { stage: AWSPREVIOUS })).value.reveal()).toBe('admin-current-ÅŒ');
    expect((await vault.getValue('db1/app')).value.reveal()).toBe('app-current');
    const kept = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    expect((await vault.listVersions('db1/app')).find((v) => v.versionId === kept)?.stages).toEqual([keptLabel(kept)]);
    expect((await vault.getValue('db1/app', { versionId: kept })).value.reveal()).toBe('app-pending');
  };

  it('on its first open: every secret, version and label is found; the old files are moved aside, whole', async () => {
    const vault = open();
    await assertMigrated(vault);
    await vault.putPending('db1/admin', randomUUID(), password('new'));
    await vault.close();

    const [aside, ...others] = readdirSync(dir).filter((f) => f !== VAULT_JOURNAL_FILE);
    expect(others).toEqual([]);
    expect(aside).toMatch(/^files\.migrated-/);
    expect(readdirSync(join(dir, aside!)).sort()).toEqual(fixtureFiles);
    for (const f of fixtureFiles) expect(readFileSync(join(dir, aside!, f), 'utf8')).toBe(readFileSync(join(FIXTURE, f), 'utf8'));
    const again = open();
    await assertMigrated(again);
    await again.close();
  });

  it('refuses to migrate when one file is not a vault file for the secret its name is the digest of, naming it, and changes nothing', async () => {
    const bad = join(dir, fixtureFiles[0]!);
    const file = JSON.parse(readFileSync(bad, 'utf8'));
    writeFileSync(bad, JSON.stringify({ ...file, secretId: 'another' }));
    const vault = open();

    const e = await vault.getValue('db1/app').catch((x: unknown) => x);

    expect(e).toBeInstanceOf(VaultIntegrityError);
    expect((e as Error).message).toContain(bad);
    expect((e as Error).message).toMatch(/nothing was migrated/);
    expect(readdirSync(dir).sort()).toEqual(fixtureFiles);
  });

  it('a migration cut before the files were moved aside finishes on the next open; a file that differs from the journal refuses it, naming the file', async () => {
    const first = open();
    await assertMigrated(first);
    await first.close();
    // As if the move had been cut: the files are back beside the journal.
    for (const f of fixtureFiles) cpSync(join(FIXTURE, f), join(dir, f));

    const second = open();
    await assertMigrated(second);
    await second.close();
    expect(readdirSync(dir).filter((f) => fixtureFiles.includes(f))).toEqual([]);

    // A file beside the journal that is not what it holds (written by an rpr from before the journal, since).
    const changed = join(dir, fixtureFiles[0]!);
    const file = JSON.parse(readFileSync(join(FIXTURE, fixtureFiles[0]!), 'utf8'));
    file.versions.pop();
    writeFileSync(changed, JSON.stringify(file));
    const e = await open().getValue('db1/app').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(VaultIntegrityError);
    expect((e as Error).message).toContain(changed);
    expect(existsSync(changed)).toBe(true);
  });
});

describe('loadVaultKey', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'rpr-key-test-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('takes RPR_VAULT_KEY as base64 or hex of 32 bytes', () => {
    const key = randomBytes(32);
    const keyFile = join(root, 'vault.key');

    expect(loadVaultKey({ envValue: key.toString('base64'), keyFile }).equals(key)).toBe(true);
    expect(loadVaultKey({ envValue: key.toString('hex'), keyFile }).equals(key)).toBe(true);
    expect(readdirSync(root)).toEqual([]);
  });

  it('refuses an RPR_VAULT_KEY of the wrong length, without echoing it', () => {
    const keyFile = join(root, 'vault.key');
    for (const bad of [randomBytes(16).toString('base64'), randomBytes(31).toString('hex'), 'not a key!']) {
      let e: unknown;
      try {
        loadVaultKey({ envValue: bad, keyFile });
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe('RPR_VAULT_KEY');
      expect((e as Error).message).not.toContain(bad);
    }
  });

  it('creates a key file of 32 random bytes with mode 0600 and reads the same key back', () => {
    const keyFile = join(root, 'home', 'vault.key');

    const created = loadVaultKey({ keyFile });
    const again = loadVaultKey({ envValue: '', keyFile });

    expect(created).toHaveLength(32);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(again.equals(created)).toBe(true);
  });

  it('refuses a key file group or others may read', () => {
    const keyFile = join(root, 'vault.key');
    loadVaultKey({ keyFile });
    chmodSync(keyFile, 0o644);

    expect(() => loadVaultKey({ keyFile })).toThrow(/chmod 600/);
    expect(() => loadVaultKey({ keyFile })).toThrow(InvalidConfigurationError);
  });

  it('refuses a key file holding the wrong number of bytes', () => {
    const keyFile = join(root, 'vault.key');
    writeFileSync(keyFile, randomBytes(20).toString('base64'), { mode: 0o600 });

    expect(() => loadVaultKey({ keyFile })).toThrow(/32 bytes/);
  });
});
