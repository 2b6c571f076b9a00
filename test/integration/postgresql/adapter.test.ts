import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { SYMBOLS } from '../../../layers/engine/policy.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createPostgresqlAdapter } from '../../../layers/resources/postgresql/adapter.js';
import { scramVerifier } from '../../../layers/resources/postgresql/scram.js';
import { pgAdminQuery, pgPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer, stateDir } from '../../../harness/servers/index.js';
import {
  account,
  context,
  countingListener,
  createRole,
  credential,
  dropRole,
  resource,
  roleExists,
  storedPassword,
  unrelatedCa,
} from './support.js';

const PRINTABLE_ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

describeServer('postgresql', 'PostgreSQL adapter on a real server', (info) => {
  const roles: string[] = [];
  const adminName = uniqueName('pgadm');
  const adminPassword = 'Adm1n-p@ss-0';

  async function role(prefix: string, password: string, options = ''): Promise<string> {
    const name = uniqueName(prefix);
    roles.push(name);
    await createRole(name, password, options);
    return name;
  }

  beforeAll(async () => {
    roles.push(adminName);
    await createRole(adminName, adminPassword, 'CREATEROLE');
  });

  afterAll(async () => {
    for (const r of roles.reverse()) await dropRole(r);
  });

  function adminAdapter(over: Record<string, unknown> = {}, password = adminPassword) {
    return createPostgresqlAdapter(context(resource(info, over), credential(adminName, password)));
  }

  it('admin reset: the new password logs in on a fresh connection, the old one is refused, and a SCRAM verifier is stored', async () => {
    const name = await role('pgreset', 'old-Pass-1');
    const adapter = adminAdapter();
    try {
      const result = await adapter.change({ account: account(name), newPassword: new Secret('new-Pass-1') });

      expect(result.method).toBe('admin reset');
      expect(await pgPasswordWorks(name, 'new-Pass-1')).toBe(true);
      expect(await pgPasswordWorks(name, 'old-Pass-1')).toBe(false);
      expect(await storedPassword(name)).toMatch(/^SCRAM-SHA-256\$4096:/);
      expect(await adapter.verify({ account: account(name), password: new Secret('new-Pass-1') })).toMatchObject({ valid: true });
      expect(await adapter.verify({ account: account(name), password: new Secret('old-Pass-1') })).toMatchObject({ valid: false });
    } finally {
      await adapter.close();
    }
  });

  it('self change without an admin account: the role changes its own password with its current one', async () => {
    const name = await role('pgself', 'old-Self-1');
    const adapter = createPostgresqlAdapter(context(resource(info)));

    const result = await adapter.change({ account: account(name), newPassword: new Secret('new-Self-1'), currentPassword: new Secret('old-Self-1') });
    await adapter.close();

    expect(result.method).toBe('self change');
    expect(await pgPasswordWorks(name, 'new-Self-1')).toBe(true);
    expect(await pgPasswordWorks(name, 'old-Self-1')).toBe(false);
  });

  it('self change with a wrong current password is an AuthenticationError and changes nothing', async () => {
    const name = await role('pgself', 'old-Self-2');
    const adapter = createPostgresqlAdapter(context(resource(info)));

    await expect(adapter.change({ account: account(name), newPassword: new Secret('new-Self-2'), currentPassword: new Secret('wrong-Self-2') })).rejects.toBeInstanceOf(AuthenticationError);
    expect(await pgPasswordWorks(name, 'old-Self-2')).toBe(true);
  });

  it('over TLS, a CA that did not sign the server is refused before login, and nothing changes', async () => {
    const name = await role('pgca', 'old-Ca-1');
    const adapter = adminAdapter({ caCertificate: unrelatedCa() });

    const error = await adapter.change({ account: account(name), newPassword: new Secret('new-Ca-1') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(InvalidConfigurationError);
    expect((error as InvalidConfigurationError).field).toBe('caCertificate');
    expect(await pgPasswordWorks(name, 'old-Ca-1')).toBe(true);
  });

  it('the password gauntlet: each hostile or unusual password is set exactly and logs in', async () => {
    const gauntlet = [
      PRINTABLE_ASCII,
      'with space inside',
      `single'quote`,
      `double"quote`,
      'back\\slash\\',
      `'; DROP ROLE ${adminName}; --`,
      `$$; DROP ROLE ${adminName}; $$`,
      'Unicode: é ü ß 密码 пароль 🔑',
      '\ufb01\uff21\u00a0nfkc-mapped', // changed by SASLprep: the server and the client must agree
      'x'.repeat(1000), // the type's maximum
      SYMBOLS,
    ];
    const first = 'Gauntlet-start-1';
    const name = await role('pggaunt', first);
    const adapter = adminAdapter();
    try {
      for (const pw of gauntlet) {
        await adapter.change({ account: account(name), newPassword: new Secret(pw) });
        expect(await pgPasswordWorks(name, pw), JSON.stringify(pw.slice(0, 40))).toBe(true);
      }
      expect(await pgPasswordWorks(name, first)).toBe(false);
      expect(await roleExists(adminName)).toBe(true);
    } finally {
      await adapter.close();
    }
  });

  it('refuses a NUL, a newline or an over-long password before connecting to anything', async () => {
    const listener = await countingListener();
    const adapter = createPostgresqlAdapter(context(resource(info, { port: listener.port, ssl: false }), credential(adminName, adminPassword)));
    try {
      for (const pw of ['nul\0inside', 'new\nline', 'carriage\rreturn', 'y'.repeat(1001), '']) {
        await expect(adapter.change({ account: account('anyrole'), newPassword: new Secret(pw) })).rejects.toBeInstanceOf(InvalidConfigurationError);
      }
      await expect(adapter.change({ account: account('bad\nrole'), newPassword: new Secret('Fine-pass-1') })).rejects.toMatchObject({ field: 'account.username' });
      expect(listener.connections()).toBe(0);
    } finally {
      await adapter.close();
      await listener.close();
    }
  });

  it('role names holding SQL are quoted as identifiers: the named role changes and no other role is touched', async () => {
    const victim = await role('pgvictim', 'Victim-pass-1');
    const before = await storedPassword(victim);
    const names = [`${uniqueName('q')}"; DROP ROLE ${victim}; --`, `${uniqueName('q')}' OR '1'='1`, `${uniqueName('q')}\`tick\``, `${uniqueName('q')} "${victim}"`];
    const adapter = adminAdapter();
    try {
      for (const name of names) {
        roles.push(name);
        await createRole(name, 'Odd-old-1');
        await adapter.change({ account: account(name), newPassword: new Secret('Odd-new-1') });
        expect(await pgPasswordWorks(name, 'Odd-new-1')).toBe(true);
      }
    } finally {
      await adapter.close();
    }
    expect(await roleExists(victim)).toBe(true);
    expect(await storedPassword(victim)).toBe(before);
  });

  it('a wrong admin password is an AuthenticationError, and the account is unchanged', async () => {
    const name = await role('pgauth', 'old-Auth-1');
    const adapter = adminAdapter({}, 'not-the-admin-password');

    const error = await adapter.change({ account: account(name), newPassword: new Secret('new-Auth-1') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(AuthenticationError);
    expect(String((error as Error).message)).not.toContain('not-the-admin-password');
    expect(await pgPasswordWorks(name, 'old-Auth-1')).toBe(true);
  });

  it('a role that does not exist is a TargetUnchangedError that says so', async () => {
    const adapter = adminAdapter();
    const error = await adapter.change({ account: account(uniqueName('pgnone')), newPassword: new Secret('Nobody-1') }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect((error as Error).message).toMatch(/does not exist/);
  });

  it('a statement the server refuses (CREATEROLE cannot change a superuser) is a TargetUnchangedError; the log holds the verifier, never the password', async () => {
    const target = await role('pgsuper', 'old-Super-1', 'SUPERUSER');
    const secret = `Never-in-the-log-${uniqueName('s')}`;
    const adapter = createPostgresqlAdapter(context(resource(info), credential(adminName, adminPassword), [secret]));

    const error = await adapter.change({ account: account(target), newPassword: new Secret(secret) }).catch((e: unknown) => e);
    await adapter.close();

    expect(error).toBeInstanceOf(TargetUnchangedError);
    expect((error as Error).message).toMatch(/superuser|permission/i);
    expect(inspect(error, { depth: 5, showHidden: true })).not.toContain(secret);
    expect(await pgPasswordWorks(target, 'old-Super-1')).toBe(true);
    const log = readFileSync(`${stateDir}postgresql/postgresql.log`, 'utf8');
    expect(log).toContain(`ALTER ROLE "${target}" PASSWORD 'SCRAM-SHA-256$4096:`);
    expect(log).not.toContain(secret);
  });

  it('with every statement of the admin logged, a successful reset writes only the verifier', async () => {
    const loggingAdmin = await role('pglogadm', 'Log-admin-1', 'CREATEROLE');
    await pgAdminQuery(`ALTER ROLE "${loggingAdmin}" SET log_statement = 'all'`);
    const name = await role('pglogged', 'old-Logged-1');
    const secret = `Logged-never-${uniqueName('s')}`;
    const adapter = createPostgresqlAdapter(context(resource(info), credential(loggingAdmin, 'Log-admin-1')));

    await adapter.change({ account: account(name), newPassword: new Secret(secret) });
    await adapter.close();

    const log = readFileSync(`${stateDir}postgresql/postgresql.log`, 'utf8');
    expect(log).toContain(`ALTER ROLE "${name}" PASSWORD 'SCRAM-SHA-256$4096:`);
    expect(log).not.toContain(secret);
    expect(await pgPasswordWorks(name, secret)).toBe(true);
  });

  it('computes the same verifier as the server for passwords SASLprep changes or leaves alone', async () => {
    const name = await role('pgprep', 'Prep-old-1');
    for (const pw of ['caf\u00e9', '\ufb01\uff21', 'a\u00a0b\u00adc', '\ufb01\u{1f600}', '\u05d0a\ufb01\u05d0', '密码']) {
      // The server hashes a plaintext itself here, for comparison only.
      await pgAdminQuery(`ALTER ROLE "${name}" PASSWORD ${(await import('pg')).default.escapeLiteral(pw)}`);
      const stored = (await storedPassword(name))!;
      const salt = Buffer.from(stored.split('$')[1]!.split(':')[1]!, 'base64');
      expect(await scramVerifier(new Secret(pw), { salt }), JSON.stringify(pw)).toBe(stored);
    }
  });

  it('the admin account resetting itself changes its own password, and later logins use the new one', async () => {
    const selfAdmin = await role('pgselfadm', 'Self-admin-1', 'CREATEROLE');
    const other = await role('pgother', 'Other-old-1');
    const adapter = createPostgresqlAdapter(context(resource(info), credential(selfAdmin, 'Self-admin-1')));
    try {
      const result = await adapter.change({ account: account(selfAdmin), newPassword: new Secret('Self-admin-2') });
      expect(result.method).toMatch(/self change/);
      expect(await pgPasswordWorks(selfAdmin, 'Self-admin-2')).toBe(true);
      expect(await pgPasswordWorks(selfAdmin, 'Self-admin-1')).toBe(false);
      // Drop the admin's connection: the adapter must log in again, with the new password (the old one is refused now).
      await pgAdminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [selfAdmin]);
      await new Promise((r) => setTimeout(r, 100));
      await adapter.change({ account: account(other), newPassword: new Secret('Other-new-1') });
      expect(await pgPasswordWorks(other, 'Other-new-1')).toBe(true);
    } finally {
      await adapter.close();
    }
  });
});
