import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../../../layers/engine/errors.js';
import { LocalVault, VaultIntegrityError, loadVaultKey } from '../../../../layers/engine/stores/local-vault.js';
import { AWSCURRENT, AWSPENDING } from '../../../../layers/engine/stores/types.js';
import { credentialStoreContract, everyFormOf, password } from '../../../contracts/credential-store.js';

credentialStoreContract('LocalVault', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-vault-contract-'));
  return { store: new LocalVault({ dir: join(dir, 'vault'), key: randomBytes(32) }), close: async () => rmSync(dir, { recursive: true, force: true }) };
});

describe('LocalVault on disk', () => {
  let root: string;
  let dir: string;
  let key: Buffer;
  let vault: LocalVault;
  const files = () => readdirSync(dir).map((f) => join(dir, f));
  // An instance keeps the files it wrote; one opened afterwards reads what is on disk.
  const opened = () => new LocalVault({ dir, key });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'rpr-vault-test-'));
    dir = join(root, 'vault');
    key = randomBytes(32);
    vault = new LocalVault({ dir, key });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('keeps one file per secret, named by digest, in a 0700 directory; no plaintext in names or contents', async () => {
    const first = password('first');
    const pending = password('pending');
    const id = await vault.createSecret('db/admin', first);
    await vault.putPending(id, randomUUID(), pending);

    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(files()).toHaveLength(1);
    const [file] = files();
    expect(file).toMatch(/[0-9a-f]{64}\.json$/);
    expect(statSync(file!).mode & 0o777).toBe(0o600);
    const text = readFileSync(file!, 'utf8');
    for (const value of [first, pending]) {
      expect(text).not.toContain(value.reveal());
      expect(text).not.toContain(Buffer.from(value.reveal()).toString('base64'));
      expect(file).not.toContain(value.reveal());
    }
  });

  it('leaves no temporary files after writes', async () => {
    const id = await vault.createSecret('s', password('a'));
    await Promise.all(Array.from({ length: 10 }, () => vault.putPending(id, randomUUID(), password('p'))));

    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('fails clearly, without the value, when a sealed value was altered', async () => {
    const first = password('first');
    const id = await vault.createSecret('s', first);
    const [file] = files();
    const stored = JSON.parse(readFileSync(file!, 'utf8'));
    const ciphertext = Buffer.from(stored.versions[0].ciphertext, 'base64');
    ciphertext[0]! ^= 0x01;
    stored.versions[0].ciphertext = ciphertext.toString('base64');
    writeFileSync(file!, JSON.stringify(stored));

    const e = await opened().getValue(id).catch((x: unknown) => x);

    expect(e).toBeInstanceOf(VaultIntegrityError);
    expect((e as Error).message).toMatch(/altered or corrupted/);
    expect(everyFormOf(e)).not.toContain(first.reveal());
  });

  it('refuses a sealed value moved from another secret (the secret id is authenticated)', async () => {
    await vault.createSecret('a', password('a'));
    await vault.createSecret('b', password('b'));
    const [fileA, fileB] = files().map((f) => ({ path: f, json: JSON.parse(readFileSync(f, 'utf8')) }));
    const [from, to] = fileA!.json.secretId === 'a' ? [fileA!, fileB!] : [fileB!, fileA!];
    to.json.versions[0] = { ...from.json.versions[0] };
    writeFileSync(to.path, JSON.stringify(to.json));

    await expect(opened().getValue(to.json.secretId)).rejects.toBeInstanceOf(VaultIntegrityError);
  });

  it('refuses a sealed value moved to another version of the same secret', async () => {
    const id = await vault.createSecret('s', password('current'));
    const token = randomUUID();
    await vault.putPending(id, token, password('pending'));
    const [file] = files();
    const stored = JSON.parse(readFileSync(file!, 'utf8'));
    const [current, pending] = stored.versions;
    stored.versions[1] = { ...current, versionId: pending.versionId, stages: pending.stages };
    writeFileSync(file!, JSON.stringify(stored));

    await expect(opened().getValue(id, { versionId: token })).rejects.toBeInstanceOf(VaultIntegrityError);
  });

  it('a wrong key fails clearly, naming RPR_VAULT_KEY, and changes nothing', async () => {
    const id = await vault.createSecret('s', password('a'));
    const before = readFileSync(files()[0]!, 'utf8');
    const other = new LocalVault({ dir, key: randomBytes(32) });

    const e = await other.getValue(id).catch((x: unknown) => x);
    await expect(other.putPending(id, randomUUID(), password('b'))).rejects.toBeInstanceOf(InvalidConfigurationError);

    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('RPR_VAULT_KEY');
    expect((e as Error).message).toMatch(/another vault key/);
    expect(readFileSync(files()[0]!, 'utf8')).toBe(before);
  });

  it('serializes concurrent operations on one secret: no update is lost', async () => {
    const ids = await Promise.all(['x', 'y'].map((n) => vault.createSecret(n, password(n))));
    const tokens = Array.from({ length: 15 }, () => randomUUID());

    await Promise.all(ids.flatMap((id) => tokens.map((t) => vault.putPending(id, t, password(t)))));

    for (const id of ids) {
      for (const t of tokens) await expect(vault.getValue(id, { versionId: t })).resolves.toMatchObject({ versionId: t });
      const stages = (await vault.listVersions(id)).flatMap((v) => v.stages).sort();
      expect(stages).toEqual([AWSCURRENT, AWSPENDING]);
    }
  });

  it('refuses a version id Secrets Manager would refuse', async () => {
    const id = await vault.createSecret('s', password('a'));
    const e = await vault.putPending(id, 'short', password('b')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('versionId');
  });

  it('a change that could not be written leaves what the vault reads as the file holds it', async () => {
    const id = await vault.createSecret('s', password('current'));
    const [file] = files();
    const text = readFileSync(file!, 'utf8');
    // The folder becomes a plain file: the change cannot write its temporary file.
    rmSync(dir, { recursive: true });
    writeFileSync(dir, '');
    await expect(vault.putPending(id, randomUUID(), password('pending'))).rejects.toThrow();
    rmSync(dir);
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(file!, text);

    expect((await vault.listVersions(id)).flatMap((v) => v.stages)).toEqual([AWSCURRENT]);
  });

  it('persists across instances with the same key', async () => {
    const first = password('first');
    const id = await vault.createSecret('s', first);

    const reopened = new LocalVault({ dir, key: Buffer.from(key) });

    expect((await reopened.getValue(id)).value.equals(first)).toBe(true);
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
