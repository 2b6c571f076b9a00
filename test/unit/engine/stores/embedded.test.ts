import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEmbeddedStores } from '../../../../layers/engine/stores/embedded.js';
import { password } from '../../../contracts/credential-store.js';

describe('openEmbeddedStores', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'rpr-embedded-')), 'home');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('keeps state and credentials across a close and a reopen of the same folder', async () => {
    const vaultKey = randomBytes(32);
    const first = password('first');
    const stores = await openEmbeddedStores({ dir, vaultKey });
    await stores.state.putResource({ id: 'db1', type: 'postgresql', site: 'cloud', tags: ['prod'], host: 'db1.example' });
    const secretId = await stores.credentials.createSecret('db1/admin', first);
    await stores.close();

    const reopened = await openEmbeddedStores({ dir, vaultKey });
    try {
      expect(await reopened.state.getResource('db1')).toMatchObject({ id: 'db1', tags: ['prod'] });
      expect((await reopened.credentials.getValue(secretId)).value.equals(first)).toBe(true);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    } finally {
      await reopened.close();
    }
  });
});
