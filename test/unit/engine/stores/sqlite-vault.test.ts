import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Secret } from '../../../../layers/engine/secret.js';
import { LocalVault } from '../../../../layers/engine/stores/local-vault.js';
import { SqliteDb } from '../../../../layers/engine/stores/sqlite-db.js';
import { SqliteVaultRecords } from '../../../../layers/engine/stores/sqlite-vault.js';
import { AWSPENDING } from '../../../../layers/engine/stores/types.js';
import { credentialStoreContract, password } from '../../../contracts/credential-store.js';

credentialStoreContract('LocalVault in the embedded database', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-sqlite-vault-contract-'));
  const db = new SqliteDb(join(dir, 'rpr.db'));
  return {
    store: new LocalVault({ key: randomBytes(32), records: new SqliteVaultRecords(db) }),
    async close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('LocalVault in the embedded database, shared by connections (as by processes)', () => {
  let dir: string;
  let dbs: SqliteDb[];
  const key = randomBytes(32);
  const open = () => {
    const db = new SqliteDb(join(dir, 'rpr.db'));
    dbs.push(db);
    return new LocalVault({ key, records: new SqliteVaultRecords(db) });
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rpr-sqlite-vault-'));
    dbs = [];
  });
  afterEach(() => {
    for (const db of dbs) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every pending version two connections put on one secret at once, one after the other, and the pending label on exactly one', async () => {
    const [a, b] = [open(), open()];
    await a.createSecret('db1/app', password('first'));
    const ids = Array.from({ length: 20 }, () => randomUUID());
    await Promise.all(ids.map((id, i) => (i % 2 ? a : b).putPending('db1/app', id, password(id))));
    const versions = await a.listVersions('db1/app');
    expect(versions.filter((v) => v.stages.includes(AWSPENDING))).toHaveLength(1);
    for (const id of ids.slice(-5)) expect((await b.getValue('db1/app', { versionId: id })).versionId).toBe(id);
  });

  it('holds no password in clear in the database files', async () => {
    const vault = open();
    const values = [password('current'), password('pending'), new Secret(`ünïcødé-ß-€-🔑-${randomUUID()}`)];
    await vault.createSecret('db1/app', values[0]!);
    await vault.putPending('db1/app', randomUUID(), values[1]!);
    await vault.putPending('db1/app', randomUUID(), values[2]!);
    const bytes = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
    expect(bytes.length).toBeGreaterThan(0);
    for (const v of values) for (const b of bytes) expect(b.includes(Buffer.from(v.reveal(), 'utf8'))).toBe(false);
  });
});
