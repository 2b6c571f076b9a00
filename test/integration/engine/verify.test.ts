// `rpr verify` on every type the test servers give: in sync at first; after someone changes the
// password behind rpr's back, drifted (no version rpr holds works) or out of sync (an older one
// does); and a verify changes nothing (the password set by hand still logs in, the store's
// versions and labels are as they were).
import { Attribute, Change } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openMemoryStores, type EmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { REGISTRY } from '../../../layers/resources/registry.js';
import { sshaUserPassword } from '../../../layers/resources/ldap/ssha.js';
import {
  createUnixUser,
  deleteUnixUser,
  mariadbCreateUser,
  mariadbDropUser,
  mariadbPasswordWorks,
  mariadbSetPassword,
  pgCreateRole,
  pgDropRole,
  pgPasswordWorks,
  pgSetPassword,
  setUnixPassword,
  uniqueName,
  unixPasswordWorks,
} from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { asRoot, binds, caOf, People } from '../ldap/support.js';
import { bindWorks, createUser, deleteUser, freshPassword, setPasswordDirectly, type TestUser } from '../windows-domain/support.js';
import { captureOutput, findLeaks } from '../../support/leaks.js';
import { readFileSync } from 'node:fs';

describe('verify runs on the real test servers', () => {
  let stores: EmbeddedStores;
  let engine: ResetEngine;
  let config: Configurator;
  const cleanups: (() => Promise<unknown>)[] = [];
  const logs: string[] = [];
  const passwords: string[] = [];

  beforeAll(async () => {
    stores = await openMemoryStores();
    // Every adapter, loaded as a type is first used: what `rpr verify` runs with.
    engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials: stores.credentials, log: new Log({ level: 'DEBUG' }), timeoutMs: 15_000 });
    config = new Configurator(stores.state, stores.credentials, REGISTRY);
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    // No password rpr held, or set by hand, reached a log line or a result.
    const results = (await Promise.all((await stores.state.listRuns()).map((r) => stores.state.listAccountResults(r.runId)))).flat();
    for (const a of await stores.state.listAccounts()) {
      for (const v of await stores.credentials.listVersions(a.secretId)) passwords.push((await stores.credentials.getValue(a.secretId, { versionId: v.versionId })).value.reveal());
    }
    expect(findLeaks(passwords, { logs: logs.join('\n'), results: JSON.stringify(results), audit: JSON.stringify(await stores.state.listAudit({ limit: 1000 })) })).toEqual([]);
    await stores?.close();
  });

  async function addAccount(resourceId: string, username: string, password: string): Promise<string> {
    passwords.push(password);
    await config.putAccount({ resourceId, username, secretId: `s/${resourceId}/${uniqueName('s')}` }, { password: new Secret(password) });
    return `${resourceId}/${username}`;
  }

  /** The store's versions and labels of every account, to show a verify left them alone. */
  async function versions() {
    const accounts = await stores.state.listAccounts();
    return Promise.all(accounts.map(async (a) => [a.id, (await stores.credentials.listVersions(a.secretId)).map((v) => `${v.versionId}:${[...v.stages].sort().join(',')}`).sort()]));
  }

  /** A verify run of one account, with its logs kept for the leak search; the store must be unchanged by it. */
  async function verify(accountId: string) {
    const before = await versions();
    const out = captureOutput();
    let run;
    try {
      run = await engine.run({ accountIds: [accountId] }, { mode: 'verify' });
    } finally {
      out.restore();
      logs.push(out.text());
    }
    expect(await versions()).toEqual(before);
    const [result] = await stores.state.listAccountResults(run.runId);
    expect(run.mode).toBe('verify');
    return result!;
  }

  /** The same story on each type: in sync, then changed by hand and found drifted, and the hand-set password untouched. */
  async function changedOutOfBand(accountId: string, changeByHand: (password: string) => Promise<void>, works: (password: string) => Promise<boolean>, handPassword: string) {
    expect(await verify(accountId)).toMatchObject({ outcome: 'in-sync', proof: 'logged in' });
    passwords.push(handPassword);
    await changeByHand(handPassword);

    const drifted = await verify(accountId);

    expect(drifted).toMatchObject({ outcome: 'drifted', workingVersion: 'none' });
    expect(drifted.message).toMatch(/the password was changed outside rpr/);
    expect(await works(handPassword)).toBe(true);
  }

  describeServer('ssh', 'Linux over SSH', (ssh) => {
    it('a password changed with chpasswd behind rpr\'s back is found drifted', async () => {
      const user = uniqueName('vu');
      await createUnixUser(user, 'Vfy-start-1');
      cleanups.push(() => deleteUnixUser(user));
      await config.putResource({ id: 'v-linux', type: 'linux', host: ssh.host, port: ssh.port, login: { account: `v-linux/${user}` } });
      const id = await addAccount('v-linux', user, 'Vfy-start-1');
      await changedOutOfBand(id, (pw) => setUnixPassword(user, pw), (pw) => unixPasswordWorks(user, pw), 'Vfy-by-hand-2');
    });
  });

  describeServer('postgresql', 'PostgreSQL', (pg) => {
    const ca = () => readFileSync(pg.caFile, 'utf8');
    it('a password changed with ALTER ROLE behind rpr\'s back is found drifted', async () => {
      const role = uniqueName('vr');
      await pgCreateRole(role, 'Vfy-start-1');
      cleanups.push(() => pgDropRole(role));
      await config.putResource({ id: 'v-pg', type: 'postgresql', host: pg.host, port: pg.port, ssl: true, caCertificate: ca() });
      const id = await addAccount('v-pg', role, 'Vfy-start-1');
      await changedOutOfBand(id, (pw) => pgSetPassword(role, pw), (pw) => pgPasswordWorks(role, pw), 'Vfy-by-hand-2');
    });

    it('after a reset, the old password put back by hand is found out of sync, naming AWSPREVIOUS', async () => {
      const role = uniqueName('vr');
      await pgCreateRole(role, 'Vfy-start-3');
      cleanups.push(() => pgDropRole(role));
      await config.putResource({ id: 'v-pg2', type: 'postgresql', host: pg.host, port: pg.port, ssl: true, caCertificate: ca() });
      const id = await addAccount('v-pg2', role, 'Vfy-start-3');
      expect((await engine.run({ accountIds: [id] })).status).toBe('succeeded');
      await pgSetPassword(role, 'Vfy-start-3');

      const result = await verify(id);

      expect(result).toMatchObject({ outcome: 'out-of-sync', workingVersion: 'previous', proof: 'logged in' });
      expect(result.message).toMatch(/AWSCURRENT is refused; the AWSPREVIOUS version \S+ works/);
      expect(await pgPasswordWorks(role, 'Vfy-start-3')).toBe(true);
    });
  });

  describeServer('mariadb', 'MariaDB', (db) => {
    it('a password changed with ALTER USER behind rpr\'s back is found drifted', async () => {
      const user = uniqueName('vm');
      await mariadbCreateUser(user, 'Vfy-start-1');
      cleanups.push(() => mariadbDropUser(user));
      await config.putResource({ id: 'v-my', type: 'mysql', host: db.host, port: db.port, ssl: true, caCertificate: readFileSync(db.caFile, 'utf8') });
      const id = await addAccount('v-my', user, 'Vfy-start-1');
      await changedOutOfBand(id, (pw) => mariadbSetPassword(user, pw), (pw) => mariadbPasswordWorks(user, pw), 'Vfy-by-hand-2');
    });
  });

  describeServer('ldap', 'OpenLDAP', (info) => {
    const people = new People(info);
    afterAll(() => people.cleanup());
    it('a userPassword replaced behind rpr\'s back is found drifted', async () => {
      const dn = await people.add('Vfy-start-1');
      await config.putResource({ id: 'v-ldap', type: 'ldap', serverType: 'openldap', host: info.host, port: info.ldapsPort, ssl: true, caCertificate: caOf(info) });
      const id = await addAccount('v-ldap', dn, 'Vfy-start-1');
      const byHand = (pw: string) => asRoot(info, 'rpr', (c) => c.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: [Buffer.from(sshaUserPassword(new Secret(pw)))] }) })));
      await changedOutOfBand(id, byHand, (pw) => binds(info, dn, pw), 'Vfy-by-hand-2');
    });
  });

  describeServer('samba', 'Samba AD', (info) => {
    let user: TestUser | undefined;
    afterAll(async () => {
      if (user) await deleteUser(info, user.dn);
    });
    it('a password an admin reset on the domain controller behind rpr\'s back is found drifted', async () => {
      const start = freshPassword();
      user = await createUser(info, start);
      await config.putResource({ id: 'v-ad', type: 'windows-domain', host: info.host, domain: info.realm.toLowerCase(), mode: 'ldaps', port: info.ldapsPort, caCertificate: readFileSync(info.caFile, 'utf8') });
      const id = await addAccount('v-ad', user.sam, start);
      const u = user;
      await changedOutOfBand(id, (pw) => setPasswordDirectly(info, u.dn, pw), (pw) => bindWorks(info, u.upn, pw), freshPassword());
    });
  });
});
