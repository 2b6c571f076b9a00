/**
 * The real test servers bench/reset.ts measures: how to make an admin login and N accounts on
 * each, and the resource that reaches it. Passwords go through bound values, stdin or LDAP
 * binary values, never argv.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Attribute, Change, Client } from 'ldapts';
import { Secret } from '../layers/engine/secret.js';
import { sshaUserPassword } from '../layers/resources/ldap/ssha.js';
import {
  createUnixUser,
  deleteUnixUser,
  mariadbAdminQuery,
  mariadbCreateUser,
  mariadbDropUser,
  pgCreateRole,
  pgDropRole,
  uniqueName,
} from '../harness/servers/fixtures.js';
import { serverInfo } from '../harness/servers/index.js';

export interface Login {
  readonly username: string;
  readonly password: string;
}

/** What a target's preparation made on its server. */
export interface Prepared {
  readonly admin: Login;
  readonly users: readonly Login[];
  /** The resource's configuration; `adminAccount` is the id of the admin's account in the store. */
  resource(id: string, adminAccount: string): Record<string, unknown>;
  cleanup(): Promise<void>;
}

export interface Target {
  /** Short name for --targets. */
  readonly key: string;
  readonly name: string;
  prepare(accounts: number): Promise<Prepared>;
}

const start = (u: string) => `${u}-Start-0`;

/** Each target whose server runs; the others are reported by serverInfo and left out. */
export function targets(): Target[] {
  return [postgresql(), mariadb(), ssh(), openldap(), samba()].filter((t): t is Target => t !== undefined);
}

function postgresql(): Target | undefined {
  const pg = serverInfo('postgresql');
  if (!pg) return undefined;
  return {
    key: 'postgresql',
    name: 'PostgreSQL 15 (TLS)',
    async prepare(n) {
      const admin = uniqueName('bpadm');
      await pgCreateRole(admin, start(admin), 'CREATEROLE');
      const users = Array.from({ length: n }, () => uniqueName('bp'));
      for (const u of users) await pgCreateRole(u, start(u));
      return {
        admin: { username: admin, password: start(admin) },
        users: users.map((u) => ({ username: u, password: start(u) })),
        resource: (id, adminAccount) => ({ id, type: 'postgresql', host: pg.host, port: pg.port, ssl: true, caCertificate: readFileSync(pg.caFile, 'utf8'), adminAccount }),
        cleanup: async () => {
          for (const u of [...users, admin]) await pgDropRole(u);
        },
      };
    },
  };
}

function mariadb(): Target | undefined {
  const db = serverInfo('mariadb');
  if (!db) return undefined;
  return {
    key: 'mariadb',
    name: 'MariaDB 10.11 (TLS)',
    async prepare(n) {
      const admin = uniqueName('bmadm');
      await mariadbCreateUser(admin, start(admin));
      await mariadbAdminQuery('GRANT CREATE USER ON *.* TO ?@?', [admin, '%']);
      await mariadbAdminQuery('GRANT SELECT ON mysql.user TO ?@?', [admin, '%']);
      const users = Array.from({ length: n }, () => uniqueName('bm'));
      for (const u of users) await mariadbCreateUser(u, start(u));
      return {
        admin: { username: admin, password: start(admin) },
        users: users.map((u) => ({ username: u, password: start(u) })),
        resource: (id, adminAccount) => ({ id, type: 'mysql', host: db.host, port: db.port, ssl: true, caCertificate: readFileSync(db.caFile, 'utf8'), adminAccount }),
        cleanup: async () => {
          for (const u of [...users, admin]) await mariadbDropUser(u);
        },
      };
    },
  };
}

function ssh(): Target | undefined {
  const info = serverInfo('ssh');
  if (!info) return undefined;
  return {
    key: 'ssh',
    name: 'Linux over SSH (sudo chpasswd)',
    async prepare(n) {
      const admin = uniqueName('bsadm');
      await createUnixUser(admin, start(admin), { sudo: true });
      const users = Array.from({ length: n }, () => uniqueName('bs'));
      for (const u of users) await createUnixUser(u, start(u));
      return {
        admin: { username: admin, password: start(admin) },
        users: users.map((u) => ({ username: u, password: start(u) })),
        resource: (id, adminAccount) => ({ id, type: 'linux', host: info.host, port: info.port, login: { account: adminAccount }, privilege: { mode: 'sudo' } }),
        cleanup: async () => {
          for (const u of [...users, admin]) await deleteUnixUser(u);
        },
      };
    },
  };
}

/** A client for setup only, bound as `dn` over LDAPS with the server's CA. */
async function boundClient(host: string, port: number, caFile: string, dn: string, password: string): Promise<Client> {
  const client = new Client({ url: `ldaps://${host}:${port}`, tlsOptions: { ca: readFileSync(caFile, 'utf8') }, connectTimeout: 10_000, timeout: 30_000 });
  await client.bind(dn, password);
  return client;
}

/** OpenLDAP: the password admin of the test directory (pwadmin, ACL-limited) resets inetOrgPerson entries. */
function openldap(): Target | undefined {
  const info = serverInfo('ldap');
  if (!info) return undefined;
  return {
    key: 'ldap',
    name: 'OpenLDAP 2.5 (LDAPS)',
    async prepare(n) {
      const root = await boundClient(info.host, info.ldapsPort, info.caFile, info.rootDn, info.rootPassword);
      const users: Login[] = [];
      try {
        for (let i = 0; i < n; i++) {
          const uid = uniqueName('bl');
          const dn = `uid=${uid},ou=people,${info.baseDn}`;
          await root.add(dn, [
            new Attribute({ type: 'objectClass', values: ['inetOrgPerson'] }),
            new Attribute({ type: 'uid', values: [uid] }),
            new Attribute({ type: 'cn', values: [uid] }),
            new Attribute({ type: 'sn', values: [uid] }),
            new Attribute({ type: 'userPassword', values: [Buffer.from(sshaUserPassword(new Secret(start(uid))))] }),
          ]);
          users.push({ username: dn, password: start(uid) });
        }
      } finally {
        await root.unbind().catch(() => undefined);
      }
      return {
        admin: { username: info.adminDn, password: info.adminPassword },
        users,
        resource: (id, adminAccount) => ({ id, type: 'ldap', serverType: 'openldap', host: info.host, port: info.ldapsPort, ssl: true, caCertificate: readFileSync(info.caFile, 'utf8'), adminAccount }),
        cleanup: async () => {
          const c = await boundClient(info.host, info.ldapsPort, info.caFile, info.rootDn, info.rootPassword);
          try {
            for (const u of users) await c.del(u.username).catch(() => undefined);
          } finally {
            await c.unbind().catch(() => undefined);
          }
        },
      };
    },
  };
}

/** A password the test domain takes (complex, never seen: Samba keeps a history of 24). */
const adPassword = () => `Rp-${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}-9z`;
const unicodePwd = (password: string) => Buffer.from(`"${password}"`, 'utf16le');

/** Samba AD: a Domain Admin of the bench's own resets users by replacing unicodePwd. */
function samba(): Target | undefined {
  const info = serverInfo('samba');
  if (!info) return undefined;
  const domain = info.realm.toLowerCase();
  return {
    key: 'ad',
    name: 'Samba 4.17 AD (LDAPS)',
    async prepare(n) {
      const users = `CN=Users,${info.baseDn}`;
      const c = await boundClient(info.host, info.ldapsPort, info.caFile, `${info.adminUser}@${domain}`, info.adminPassword);
      const made: (Login & { dn: string })[] = [];
      const add = async (sam: string) => {
        const dn = `CN=${sam},${users}`;
        const password = adPassword();
        await c.add(dn, [
          new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
          new Attribute({ type: 'cn', values: [sam] }),
          new Attribute({ type: 'sAMAccountName', values: [sam] }),
          new Attribute({ type: 'userPrincipalName', values: [`${sam}@${domain}`] }),
          new Attribute({ type: 'unicodePwd', values: [unicodePwd(password)] }),
          new Attribute({ type: 'userAccountControl', values: ['512'] }),
        ]);
        made.push({ username: sam, password, dn });
        return made.at(-1)!;
      };
      const cleanup = async () => {
        const d = await boundClient(info.host, info.ldapsPort, info.caFile, `${info.adminUser}@${domain}`, info.adminPassword);
        try {
          for (const u of made) await d.del(u.dn).catch(() => undefined);
        } finally {
          await d.unbind().catch(() => undefined);
        }
      };
      try {
        const admin = await add(uniqueName('badm'));
        await c.modify(`CN=Domain Admins,${users}`, [new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [admin.dn] }) })]);
        for (let i = 0; i < n; i++) await add(uniqueName('ba'));
        return {
          admin: { username: admin.username, password: admin.password },
          users: made.slice(1).map(({ username, password }) => ({ username, password })),
          resource: (id, adminAccount) => ({ id, type: 'windows-domain', host: info.host, domain, mode: 'ldaps', port: info.ldapsPort, caCertificate: readFileSync(info.caFile, 'utf8'), adminAccount }),
          cleanup,
        };
      } catch (e) {
        await cleanup();
        throw e;
      } finally {
        await c.unbind().catch(() => undefined);
      }
    },
  };
}
