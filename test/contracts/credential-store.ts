import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigurationError, NotFoundError } from '../../layers/engine/errors.js';
import { Secret } from '../../layers/engine/secret.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, type CredentialStore } from '../../layers/engine/stores/types.js';

export interface CredentialStoreFixture {
  readonly store: CredentialStore;
  close?(): Promise<void>;
  /**
   * moto, unlike AWS, takes a second PutSecretValue with a version's token and another value as
   * an overwrite rather than refusing it (ResourceExistsException): two puts of one version at
   * once may then both be told they stored it. The store's check before putting covers repeats.
   */
  readonly overwritesConcurrentPuts?: boolean;
}

/** A password with characters that break naive quoting, unique per call so leaks can be searched for. */
export function password(label: string): Secret {
  return new Secret(`${label}-${randomUUID().slice(0, 8)}-p@ss'"; $(x) \`y\` \\ é`);
}

/** Every textual form of an error, its causes included, to search for leaked values. */
export function everyFormOf(e: unknown): string {
  const forms: string[] = [];
  let current: unknown = e;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    forms.push(String(current), inspect(current, { depth: 5, showHidden: true }));
    if (current instanceof Error) forms.push(current.message, current.stack ?? '');
    current = current instanceof Error ? current.cause : undefined;
  }
  return forms.join('\n');
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

/**
 * The behaviour every CredentialStore shares (Secrets Manager's version and label semantics),
 * run against each implementation.
 */
export function credentialStoreContract(name: string, factory: () => Promise<CredentialStoreFixture>): void {
  describe(`CredentialStore contract: ${name}`, () => {
    let fixture: CredentialStoreFixture;
    let store: CredentialStore;
    const run = randomUUID().slice(0, 8);
    let counter = 0;
    const newName = () => `rpr-contract/${run}/secret-${++counter}`;
    const stagesOf = async (id: string) =>
      Object.fromEntries((await store.listVersions(id)).map((v) => [v.versionId, [...v.stages].sort()]));

    beforeAll(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterAll(async () => fixture?.close?.());

    it('creates a secret whose first value is AWSCURRENT', async () => {
      const first = password('first');
      const id = await store.createSecret(newName(), first, { description: 'contract test', tags: { suite: 'contract' } });

      const current = await store.getValue(id);
      expect(current.value.equals(first)).toBe(true);
      expect(await store.getValue(id, { stage: AWSCURRENT })).toMatchObject({ versionId: current.versionId });
      expect(await stagesOf(id)).toEqual({ [current.versionId]: [AWSCURRENT] });
    });

    it('refuses to create a secret that exists, naming the field', async () => {
      const secretName = newName();
      await store.createSecret(secretName, password('a'));

      const e = await rejectionOf(store.createSecret(secretName, password('b')));

      expect(e).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe('name');
    });

    it('stores a pending version readable by version id and by stage, leaving AWSCURRENT alone', async () => {
      const first = password('first');
      const pending = password('pending');
      const id = await store.createSecret(newName(), first);
      const currentId = (await store.getValue(id)).versionId;
      const token = randomUUID();

      await store.putPending(id, token, pending);

      expect((await store.getValue(id, { versionId: token })).value.equals(pending)).toBe(true);
      expect(await store.getValue(id, { stage: AWSPENDING })).toMatchObject({ versionId: token });
      expect((await store.getValue(id, { versionId: token, stage: AWSPENDING })).value.equals(pending)).toBe(true);
      expect((await store.getValue(id)).value.equals(first)).toBe(true);
      // A read by version id also says which stages that version holds: one read serves a step.
      expect((await store.getValue(id, { versionId: token })).stages).toEqual([AWSPENDING]);
      expect((await store.getValue(id, { versionId: currentId })).stages).toEqual([AWSCURRENT]);
      expect(await stagesOf(id)).toEqual({ [currentId]: [AWSCURRENT], [token]: [AWSPENDING] });
    });

    it('keeps the first value when putPending is repeated with the same version id', async () => {
      const id = await store.createSecret(newName(), password('first'));
      const token = randomUUID();
      const kept = password('kept');

      const first = await store.putPending(id, token, kept);
      const repeated = await store.putPending(id, token, password('ignored'));

      expect([first, repeated]).toEqual([true, false]);
      expect((await store.getValue(id, { versionId: token })).value.equals(kept)).toBe(true);
      expect((await store.getValue(id, { stage: AWSPENDING })).versionId).toBe(token);
    });

    it('keeps exactly one value when the same pending version is put concurrently', async () => {
      const id = await store.createSecret(newName(), password('first'));
      const token = randomUUID();
      const candidates = [password('a'), password('b'), password('c')];

      const storedBy = await Promise.all(candidates.map((c) => store.putPending(id, token, c)));
      const stored = (await store.getValue(id, { versionId: token })).value;
      await store.putPending(id, token, password('late'));

      // Each caller learns whether its value is the one kept; whoever was told false reads it back.
      expect(candidates.some((c) => c.equals(stored))).toBe(true);
      if (!fixture.overwritesConcurrentPuts) for (const [i, c] of candidates.entries()) if (storedBy[i]) expect(c.equals(stored)).toBe(true);
      expect((await store.getValue(id, { versionId: token })).value.equals(stored)).toBe(true);
    });

    it('moves AWSPENDING to a newer pending version', async () => {
      const id = await store.createSecret(newName(), password('first'));
      const currentId = (await store.getValue(id)).versionId;
      const older = randomUUID();
      const newer = randomUUID();

      await store.putPending(id, older, password('older'));
      await store.putPending(id, newer, password('newer'));

      expect(await stagesOf(id)).toEqual({ [currentId]: [AWSCURRENT], [newer]: [AWSPENDING] });
    });

    it('promotes with AWSCURRENT on the new version and AWSPREVIOUS on the old; AWSPENDING stays with it, and the next pending version takes it; a repeat changes nothing', async () => {
      const first = password('first');
      const second = password('second');
      const id = await store.createSecret(newName(), first);
      const oldId = (await store.getValue(id)).versionId;
      const token = randomUUID();
      await store.putPending(id, token, second);

      await store.promote(id, token);
      const after = await stagesOf(id);
      await store.promote(id, token);

      // As Secrets Manager's rotation leaves it: AWSPENDING beside AWSCURRENT is a finished rotation.
      expect(after).toEqual({ [token]: [AWSCURRENT, AWSPENDING], [oldId]: [AWSPREVIOUS] });
      expect(await stagesOf(id)).toEqual(after);
      expect((await store.getValue(id)).value.equals(second)).toBe(true);
      expect((await store.getValue(id, { stage: AWSPREVIOUS })).value.equals(first)).toBe(true);
      const next = randomUUID();
      await store.putPending(id, next, password('third'));
      expect(await stagesOf(id)).toEqual({ [token]: [AWSCURRENT], [next]: [AWSPENDING], [oldId]: [AWSPREVIOUS] });
    });

    it('promotes with the caller\'s word for the current version, and after all when that word is stale', async () => {
      const id = await store.createSecret(newName(), password('v1'));
      const v1 = (await store.getValue(id)).versionId;
      const v2 = randomUUID();
      const v3 = randomUUID();
      await store.putPending(id, v2, password('v2'));
      await store.promote(id, v2, { current: v1 });
      expect(await stagesOf(id)).toEqual({ [v2]: [AWSCURRENT, AWSPENDING], [v1]: [AWSPREVIOUS] });

      await store.putPending(id, v3, password('v3'));
      await store.promote(id, v3, { current: v1 });

      expect(await stagesOf(id)).toEqual({ [v3]: [AWSCURRENT, AWSPENDING], [v2]: [AWSPREVIOUS] });
    });

    it('on a second rotation, the oldest version loses its last label', async () => {
      const id = await store.createSecret(newName(), password('v1'));
      const v2 = randomUUID();
      const v3 = randomUUID();
      const third = password('v3');
      await store.putPending(id, v2, password('v2'));
      await store.promote(id, v2);

      await store.putPending(id, v3, third);
      await store.promote(id, v3);

      expect(await stagesOf(id)).toEqual({ [v3]: [AWSCURRENT, AWSPENDING], [v2]: [AWSPREVIOUS] });
      expect((await store.getValue(id)).value.equals(third)).toBe(true);
    });

    it('discards a pending version, leaving AWSCURRENT; discarding again or a non-pending version does nothing', async () => {
      const first = password('first');
      const id = await store.createSecret(newName(), first);
      const currentId = (await store.getValue(id)).versionId;
      const token = randomUUID();
      await store.putPending(id, token, password('pending'));

      await store.discardPending(id, token);
      await store.discardPending(id, token);
      await store.discardPending(id, currentId);

      expect(await stagesOf(id)).toEqual({ [currentId]: [AWSCURRENT] });
      expect((await store.getValue(id)).value.equals(first)).toBe(true);
      await expect(store.getValue(id, { stage: AWSPENDING })).rejects.toBeInstanceOf(NotFoundError);
    });

    it('a discarded version is not put back by a retried putPending', async () => {
      const id = await store.createSecret(newName(), password('first'));
      const token = randomUUID();
      const pending = password('pending');
      await store.putPending(id, token, pending);
      await store.discardPending(id, token);

      await store.putPending(id, token, password('retry'));

      expect((await store.getValue(id, { versionId: token })).value.equals(pending)).toBe(true);
      // Read by its id, it says it holds no stage: not pending, not current.
      expect((await store.getValue(id, { versionId: token })).stages).toEqual([]);
    });

    it('a missing secret is a NotFoundError naming secretId, for every operation', async () => {
      const missing = `rpr-contract/${run}/missing-${randomUUID()}`;
      const value = password('never-stored');
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['getValue', () => store.getValue(missing)],
        ['getValue by version', () => store.getValue(missing, { versionId: randomUUID() })],
        ['listVersions', () => store.listVersions(missing)],
        ['putPending', () => store.putPending(missing, randomUUID(), value)],
        ['promote', () => store.promote(missing, randomUUID())],
        ['discardPending', () => store.discardPending(missing, randomUUID())],
      ];
      for (const [label, call] of calls) {
        const e = await rejectionOf(call());
        expect(e, label).toBeInstanceOf(NotFoundError);
        expect((e as NotFoundError).field, label).toBe('secretId');
        expect(everyFormOf(e), label).not.toContain(value.reveal());
      }
    });

    it('a missing version or stage is a NotFoundError, and no error carries a stored value', async () => {
      const first = password('first');
      const id = await store.createSecret(newName(), first);
      const pending = password('pending');
      await store.putPending(id, randomUUID(), pending);
      await store.discardPending(id, (await store.getValue(id, { stage: AWSPENDING })).versionId);

      const errors = [
        await rejectionOf(store.getValue(id, { versionId: randomUUID() })),
        await rejectionOf(store.getValue(id, { stage: AWSPENDING })),
        await rejectionOf(store.getValue(id, { stage: AWSPREVIOUS })),
        await rejectionOf(store.promote(id, randomUUID())),
      ];

      for (const e of errors) {
        expect(e).toBeInstanceOf(NotFoundError);
        expect(everyFormOf(e)).not.toContain(first.reveal());
        expect(everyFormOf(e)).not.toContain(pending.reveal());
      }
    });

    it('deletes a secret; deleting again does nothing', async () => {
      const id = await store.createSecret(newName(), password('first'));

      await store.deleteSecret(id);
      await store.deleteSecret(id);

      await expect(store.getValue(id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('stays consistent under concurrent rotations of one secret', async () => {
      const id = await store.createSecret(newName(), password('first'));
      const tokens = Array.from({ length: 5 }, () => randomUUID());

      await Promise.all(tokens.map((t) => store.putPending(id, t, password(t))));
      const pendingId = (await store.getValue(id, { stage: AWSPENDING })).versionId;
      await Promise.all([store.promote(id, pendingId), store.promote(id, pendingId), store.getValue(id)]);

      const stages = await stagesOf(id);
      expect(tokens).toContain(pendingId);
      expect(stages[pendingId]).toEqual([AWSCURRENT, AWSPENDING]);
      expect(Object.values(stages).flat().sort()).toEqual([AWSCURRENT, AWSPENDING, AWSPREVIOUS]);
    });
  });
}
