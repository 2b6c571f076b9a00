// TLS everywhere: with `ssl` (or LDAPS), each adapter checks the server's certificate against the
// resource's CA and that it names the host connected to. Each server's certificate names 127.0.0.1
// and localhost; the same server reached through 127.0.0.2 (a proxy on another loopback address)
// must be refused before any password is sent, with the right CA in hand.
import { readFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import type { AdapterContext, Credential, TargetAdapter } from '../../layers/engine/adapter.js';
import { InvalidConfigurationError, TargetUnchangedError } from '../../layers/engine/errors.js';
import { Secret } from '../../layers/engine/secret.js';
import type { Account } from '../../layers/engine/types.js';
import { createLdapAdapter } from '../../layers/resources/ldap/adapter.js';
import { createMysqlAdapter } from '../../layers/resources/mysql/adapter.js';
import { createPostgresqlAdapter } from '../../layers/resources/postgresql/adapter.js';
import { parseResource } from '../../layers/resources/registry.js';
import { createWindowsDomainAdapter } from '../../layers/resources/windows-domain/adapter.js';
import { describeServer } from '../../harness/servers/index.js';
import { FaultProxy } from '../servers/proxy.js';
import { adapterContext } from '../../harness/support/adapter-context.js';

const proxies: FaultProxy[] = [];
afterAll(async () => Promise.all(proxies.splice(0).map((p) => p.close())));

/** The server behind a proxy listening on `listen`. */
async function via(listen: string, target: { host: string; port: number }): Promise<{ host: string; port: number }> {
  const proxy = await FaultProxy.start(target, { listen });
  proxies.push(proxy);
  return { host: proxy.host, port: proxy.port };
}

const account = (resourceId: string, username: string): Account => ({ id: `${resourceId}/${username}`, resourceId, username, secretId: 's', tags: [] });

/** verify() through the right name logs in; through another name it is refused before any password is sent, never as "wrong password". */
async function checkIdentity(make: (at: { host: string; port: number }) => { adapter: TargetAdapter; username: string; password: string }, target: { host: string; port: number }) {
  const good = make(await via('127.0.0.1', target));
  try {
    expect(await good.adapter.verify({ account: account('r1', good.username), password: new Secret(good.password) })).toMatchObject({ valid: true });
  } finally {
    await good.adapter.close();
  }
  const other = await via('127.0.0.2', target);
  const bad = make(other);
  try {
    const e = await bad.adapter.verify({ account: account('r1', bad.username), password: new Secret(bad.password) }).then(
      (r) => new Error(`verify answered ${JSON.stringify(r)}`),
      (x: unknown) => x as Error,
    );
    // Refused as a configuration to fix (the certificate or the host name), never as a wrong password.
    expect([InvalidConfigurationError, TargetUnchangedError].some((c) => e instanceof c), String(e)).toBe(true);
    expect(`${e.message} ${String((e.cause as Error | undefined)?.message ?? '')}`).toMatch(/altnames|Hostname\/IP does not match|IP: 127\.0\.0\.2 is not in the cert/i);
  } finally {
    await bad.adapter.close();
  }
}

const ctx = <C extends { type: string }>(resource: C, admin?: Credential): AdapterContext<C> => adapterContext(resource, admin ? { admin } : {}, { timeoutMs: 5_000 });

describeServer('postgresql', 'PostgreSQL over SSL checks the certificate names the host', (pg) => {
  it('refuses a certificate that does not name the host connected to', async () => {
    await checkIdentity((at) => {
      const r = parseResource({ id: 'r1', type: 'postgresql', host: at.host, port: at.port, ssl: true, caCertificate: readFileSync(pg.caFile, 'utf8') }) as never;
      return { adapter: createPostgresqlAdapter(ctx(r)), username: pg.superuser, password: pg.superuserPassword };
    }, pg);
  });
});

describeServer('mariadb', 'MariaDB over TLS checks the certificate names the host', (db) => {
  it('refuses a certificate that does not name the host connected to', async () => {
    await checkIdentity((at) => {
      const r = parseResource({ id: 'r1', type: 'mysql', host: at.host, port: at.port, ssl: true, caCertificate: readFileSync(db.caFile, 'utf8') }) as never;
      return { adapter: createMysqlAdapter(ctx(r)), username: `${db.rootUser}@127.0.0.1`, password: db.rootPassword };
    }, db);
  });
});

describeServer('ldap', 'OpenLDAP over LDAPS checks the certificate names the host', (ldap) => {
  it('refuses a certificate that does not name the host connected to', async () => {
    await checkIdentity((at) => {
      const r = parseResource({ id: 'r1', type: 'ldap', serverType: 'openldap', host: at.host, port: at.port, ssl: true, caCertificate: readFileSync(ldap.caFile, 'utf8') }) as never;
      return { adapter: createLdapAdapter(ctx(r)), username: ldap.adminDn, password: ldap.adminPassword };
    }, { host: ldap.host, port: ldap.ldapsPort });
  });
});

describeServer('samba', 'Active Directory over LDAPS checks the certificate names the host', (ad) => {
  it('refuses a certificate that does not name the host connected to', async () => {
    await checkIdentity((at) => {
      const r = parseResource({ id: 'r1', type: 'windows-domain', domain: 'rpr.test', host: at.host, port: at.port, caCertificate: readFileSync(ad.caFile, 'utf8') }) as never;
      return { adapter: createWindowsDomainAdapter(ctx(r)), username: ad.adminUser, password: ad.adminPassword };
    }, { host: ad.host, port: ad.ldapsPort });
  });
});
