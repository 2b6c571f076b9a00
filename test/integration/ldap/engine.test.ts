import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import { Secret } from '../../../layers/engine/secret.js';
import { openAwsStores } from '../../../layers/engine/stores/aws.js';
import { createStateTable } from '../../../layers/engine/stores/dynamo-schema.js';
import { AWSCURRENT, AWSPREVIOUS } from '../../../layers/engine/stores/types.js';
import { createLdapAdapter } from '../../../layers/resources/ldap/adapter.js';
import { uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { captureOutput, findLeaks, recordingStore, scanTable } from '../../support/leaks.js';
import { Attribute, Change } from 'ldapts';
import { EXTENDED_RESPONSE, People, asRoot, binds, caOf, cutWhenServerAnswers } from './support.js';
import { stillPending } from '../../support/labels.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };

/**
 * The whole product path with the LDAP adapter: configuration validated and stored in DynamoDB,
 * passwords in Secrets Manager (both on moto), the engine's steps and reconcile, and the real slapd.
 * Outcomes are proven outside the engine with fresh binds. (The lead registers `ldap` in ALL_ADAPTERS;
 * until then this suite adds it itself.)
 */
describeServer('moto', 'reset engine with the LDAP adapter (DynamoDB and Secrets Manager on moto)', (moto) => {
  describeServer('ldap', 'on the real slapd', (info) => {
    const people = new People(info);
    const cleanups: (() => Promise<unknown>)[] = [];
    const logs: string[] = [];
    let h: Awaited<ReturnType<typeof harness>>;

    async function harness() {
      const tableName = `rpr-ldap-${randomBytes(4).toString('hex')}`;
      const admin = new DynamoDBClient({ ...AWS, endpoint: moto.endpoint });
      await createStateTable(admin, tableName);
      admin.destroy();
      const stores = await openAwsStores({ tableName, endpoint: moto.endpoint, ...AWS });
      const { store: credentials, written } = recordingStore(stores.credentials);
      const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials, adapters: { ldap: createLdapAdapter }, log: new Log({ level: 'DEBUG' }), timeoutMs: 10_000 });
      return { tableName, stores, credentials, written, engine, config: new Configurator(stores.state, credentials, REGISTRY) };
    }

    beforeAll(async () => {
      h = await harness();
    });
    afterAll(async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
      await people.cleanup();
      await h?.stores.close();
    });

    async function run(selector: Parameters<typeof h.engine.run>[0]) {
      const out = captureOutput();
      try {
        const record = await h.engine.run(selector);
        return { record, results: await h.stores.state.listAccountResults(record.runId) };
      } finally {
        out.restore();
        logs.push(out.text());
      }
    }
    async function addAccount(resourceId: string, dn: string, password: string) {
      const secretId = `${h.tableName}/${resourceId}/${uniqueName('s')}`;
      await h.config.putAccount({ resourceId, username: dn, secretId }, { password: new Secret(password) });
      return { id: `${resourceId}/${dn}`, secretId };
    }
    const stage = async (secretId: string, s: string) => (await h.credentials.getValue(secretId, { stage: s })).value.reveal();

    /** A password admin of our own (a member of cn=password-admins), so the shared one is never changed. */
    async function ownAdmin(password: string): Promise<string> {
      const dn = await people.add(password);
      const group = `cn=password-admins,ou=groups,${info.baseDn}`;
      const member = (operation: 'add' | 'delete') => asRoot(info, 'rpr', (c) => c.modify(group, new Change({ operation, modification: new Attribute({ type: 'member', values: [dn] }) })));
      await member('add');
      cleanups.push(() => member('delete'));
      return dn;
    }

    it('admin reset over LDAPS: three accounts and the admin itself; new passwords bind, old ones are refused, labels moved', async () => {
      const adminStart = `Adm-${uniqueName('a')}`;
      const adminDn = await ownAdmin(adminStart);
      const starts = [`S1 "q" \\ ü-${uniqueName('a')}`, `S2-${uniqueName('a')}`, `S3-${uniqueName('a')}`];
      const dns = [];
      for (const s of starts) dns.push(await people.add(s));
      await h.config.putResource({
        id: 'ldap-admin',
        type: 'ldap',
        serverType: 'openldap',
        host: info.host,
        port: info.ldapsPort,
        ssl: true,
        caCertificate: caOf(info),
        baseDn: info.baseDn,
        adminAccount: `ldap-admin/${adminDn}`,
      });
      const adminAccount = await addAccount('ldap-admin', adminDn, adminStart);
      const accounts = [];
      for (const [i, dn] of dns.entries()) accounts.push(await addAccount('ldap-admin', dn, starts[i]!));

      const { record, results } = await run({ resourceIds: ['ldap-admin'] });

      expect(record.status, JSON.stringify(results)).toBe('succeeded');
      for (const [i, a] of accounts.entries()) {
        const current = await stage(a.secretId, AWSCURRENT);
        expect(current).not.toBe(starts[i]);
        expect(await binds(info, dns[i]!, current)).toBe(true);
        expect(await binds(info, dns[i]!, starts[i]!)).toBe(false);
        expect(await stage(a.secretId, AWSPREVIOUS)).toBe(starts[i]);
      }
      expect(await binds(info, adminDn, await stage(adminAccount.secretId, AWSCURRENT))).toBe(true);
      expect(await binds(info, adminDn, adminStart)).toBe(false);
      expect(await stage(adminAccount.secretId, AWSPREVIOUS)).toBe(adminStart);
    });

    it('self change over StartTLS: an account without an admin changes its own password; labels moved', async () => {
      const start = `Self-${uniqueName('a')}`;
      const dn = await people.add(start);
      await h.config.putResource({ id: 'ldap-self', type: 'ldap', serverType: 'openldap', host: info.host, port: info.port, starttls: true, caCertificate: caOf(info) });
      const a = await addAccount('ldap-self', dn, start);

      const { record, results } = await run({ resourceIds: ['ldap-self'] });

      expect(record.status, JSON.stringify(results)).toBe('succeeded');
      const current = await stage(a.secretId, AWSCURRENT);
      expect(await binds(info, dn, current)).toBe(true);
      expect(await binds(info, dn, start)).toBe(false);
      expect(await stage(a.secretId, AWSPREVIOUS)).toBe(start);
    });

    it('connection cut after the server applied the Password Modify operation, before its answer: the engine reconciles, and AWSCURRENT is the new password that binds', async () => {
      const adminStart = `Adm-${uniqueName('a')}`;
      const adminDn = await ownAdmin(adminStart);
      const start = `Cut-${uniqueName('a')}`;
      const dn = await people.add(start);
      const proxy = await FaultProxy.start({ host: info.host, port: info.port });
      cleanups.push(() => proxy.close());
      await h.config.putResource({ id: 'ldap-cut', type: 'ldap', serverType: 'openldap', host: proxy.host, port: proxy.port, adminAccount: `ldap-cut/${adminDn}` });
      await addAccount('ldap-cut', adminDn, adminStart);
      const a = await addAccount('ldap-cut', dn, start);
      cutWhenServerAnswers(proxy, EXTENDED_RESPONSE);

      const { results } = await run({ accountIds: [a.id] });

      expect(results[0]).toMatchObject({ outcome: 'succeeded', step: 'reconcile', errorClass: 'OutcomeUnknownError', workingVersion: 'pending' });
      expect(await binds(info, dn, await stage(a.secretId, AWSCURRENT))).toBe(true);
      expect(await binds(info, dn, start)).toBe(false);
    });

    it('an account outside baseDn fails with the field named, and nothing changes: AWSCURRENT still binds, no pending version', async () => {
      const start = `Out-${uniqueName('a')}`;
      const dn = await people.add(start, { suffix: 'clear' });
      await h.config.putResource({ id: 'ldap-base', type: 'ldap', serverType: 'openldap', host: info.host, port: info.ldapsPort, ssl: true, caCertificate: caOf(info), baseDn: info.baseDn });
      const a = await addAccount('ldap-base', dn, start);

      const { results } = await run({ accountIds: [a.id] });

      expect(results[0]).toMatchObject({ outcome: 'failed', errorClass: 'InvalidConfigurationError' });
      expect(results[0]!.message).toMatch(/account\.username.*baseDn/);
      expect(await stage(a.secretId, AWSCURRENT)).toBe(start);
      expect(await binds(info, dn, start)).toBe(true);
      expect(stillPending(await h.credentials.listVersions(a.secretId))).toEqual([]);
    });

    it('(last) no password written to Secrets Manager appears in the logs, the DynamoDB table, the results or the audit trail', async () => {
      expect(h.written.size).toBeGreaterThan(5);
      const table = await scanTable(moto.endpoint, h.tableName);
      const runs = await h.stores.state.listRuns(100);
      const results = (await Promise.all(runs.map((r) => h.stores.state.listAccountResults(r.runId)))).flat();
      const audit = await h.stores.state.listAudit({ limit: 1000 });
      expect(logs.join('').length).toBeGreaterThan(1000);
      expect(audit.length).toBeGreaterThan(0);
      expect(findLeaks(h.written, { logs: logs.join('\n'), 'DynamoDB items': table, results: JSON.stringify(results), audit: JSON.stringify(audit) })).toEqual([]);
    });
  });
});
