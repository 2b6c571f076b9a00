// `rpr reset --dry-run` through the engine on the real servers, one case per kind of finding the
// adapters' preflight reports: a login without the sudo right, a MariaDB admin without CREATE
// USER, and an AD domain policy the resource's policy cannot meet. Each says which accounts a real
// run would fail and why, and nothing changes: the passwords still log in, the store's versions
// and labels are as they were, and no run is recorded.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { REGISTRY } from '../../../layers/resources/registry.js';
import { createUnixUser, deleteUnixUser, mariadbAdminQuery, mariadbCreateUser, mariadbDropUser, mariadbPasswordWorks, uniqueName, unixPasswordWorks } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { bindWorks, createUser, deleteUser, freshPassword, makeDomainAdmin, type TestUser } from '../windows-domain/support.js';

describe('dry runs of a reset on the real test servers', () => {
  let stores: EmbeddedStores;
  let engine: ResetEngine;
  let config: Configurator;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    stores = await openMemoryStores();
    engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, log: new Log({ level: 'SILENT' }), timeoutMs: 15_000 });
    config = new Configurator(stores.state, stores.credentials, REGISTRY);
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await stores?.close();
  });

  async function addAccount(resourceId: string, username: string, password: string): Promise<string> {
    await config.putAccount({ resourceId, username, secretId: `s/${resourceId}/${uniqueName('s')}` }, { password: new Secret(password) });
    return `${resourceId}/${username}`;
  }

  /** The dry run of one resource; the store must be as it was (versions, labels, runs). */
  async function dryRun(resourceId: string) {
    const snapshot = async () => ({
      versions: await Promise.all((await stores.state.listAccounts({ resourceId })).map(async (a) => (await stores.credentials.listVersions(a.secretId)).map((v) => `${v.versionId}:${v.stages.join(',')}`))),
      runs: (await stores.state.listRuns()).length,
    });
    const before = await snapshot();
    const report = await engine.dryRun({ resourceIds: [resourceId] });
    expect(await snapshot()).toEqual(before);
    expect(report.ok).toBe(false);
    const [resource] = report.resources;
    return { resource: resource!, failed: resource!.findings.filter((f) => !f.ok) };
  }

  describeServer('ssh', 'Linux over SSH', (ssh) => {
    it('a sudo login outside the sudoers: "sudo rights" fails, so every account would fail; the passwords are untouched', async () => {
      const login = uniqueName('dnos');
      const user = uniqueName('dusr');
      await createUnixUser(login, 'Dry-login-1');
      await createUnixUser(user, 'Dry-user-1');
      cleanups.push(() => deleteUnixUser(login), () => deleteUnixUser(user));
      await config.putResource({ id: 'd-linux', type: 'linux', host: ssh.host, port: ssh.port, login: { account: `d-linux/${login}` }, privilege: { mode: 'sudo' } });
      await addAccount('d-linux', login, 'Dry-login-1');
      const id = await addAccount('d-linux', user, 'Dry-user-1');

      const { resource, failed } = await dryRun('d-linux');

      expect(failed.map((f) => f.check)).toEqual(['sudo rights']);
      expect(failed[0]!.detail).toMatch(new RegExp(`Sorry, user ${login} may not run sudo`));
      expect(resource.accounts.find((a) => a.accountId === id)).toMatchObject({ ok: false, failures: [expect.stringMatching(/^sudo rights: /)] });
      expect(await unixPasswordWorks(user, 'Dry-user-1')).toBe(true);
    });
  });

  describeServer('mariadb', 'MariaDB', (db) => {
    it('an admin without CREATE USER: the finding names the GRANT, every other account would fail; the passwords are untouched', async () => {
      const admin = uniqueName('dadm');
      const app = uniqueName('dapp');
      await mariadbCreateUser(admin, 'Dry-admin-1');
      await mariadbAdminQuery('GRANT SELECT ON mysql.* TO ?@?', [admin, '%']);
      await mariadbCreateUser(app, 'Dry-app-1');
      cleanups.push(() => mariadbDropUser(admin), () => mariadbDropUser(app));
      await config.putResource({ id: 'd-my', type: 'mysql', host: db.host, port: db.port, ssl: true, caCertificate: readFileSync(db.caFile, 'utf8'), adminAccount: `d-my/${admin}` });
      await addAccount('d-my', admin, 'Dry-admin-1');
      const id = await addAccount('d-my', app, 'Dry-app-1');

      const { resource, failed } = await dryRun('d-my');

      expect(failed.map((f) => f.check)).toEqual(['CREATE USER']);
      expect(failed[0]!.detail).toContain('GRANT CREATE USER ON *.*');
      expect(resource.accounts.find((a) => a.accountId === id)).toMatchObject({ ok: false, failures: [expect.stringMatching(/^CREATE USER: /)] });
      expect(await mariadbPasswordWorks(app, 'Dry-app-1')).toBe(true);
    });
  });

  describeServer('samba', 'Samba AD', (info) => {
    const made: TestUser[] = [];
    afterAll(async () => {
      for (const u of made) await deleteUser(info, u.dn);
    });
    it("a resource policy the domain's complexity rule refuses: \"domain policy\" fails, naming the settings; the passwords are untouched", async () => {
      const adminPassword = freshPassword();
      const userPassword = freshPassword();
      const admin = await createUser(info, adminPassword);
      const user = await createUser(info, userPassword);
      made.push(admin, user);
      await makeDomainAdmin(info, admin);
      await config.putResource({
        id: 'd-ad',
        type: 'windows-domain',
        host: info.host,
        domain: info.realm.toLowerCase(),
        mode: 'ldaps',
        port: info.ldapsPort,
        caCertificate: readFileSync(info.caFile, 'utf8'),
        adminAccount: `d-ad/${admin.sam}`,
        // Lower-case letters only: the domain asks for three of the four categories.
        policy: { minUpper: 0, minDigits: 0, minSymbols: 0 },
      });
      await addAccount('d-ad', admin.sam, adminPassword);
      const id = await addAccount('d-ad', user.sam, userPassword);

      const { resource, failed } = await dryRun('d-ad');

      expect(failed.map((f) => f.check)).toEqual(['domain policy']);
      expect(failed[0]!.detail).toMatch(/set 2 more of minUpper, minDigits, minSymbols/);
      expect(resource.accounts.find((a) => a.accountId === id)).toMatchObject({ ok: false, failures: [expect.stringMatching(/^domain policy: /)] });
      expect(await bindWorks(info, user.upn, userPassword)).toBe(true);
    });
  });
});
