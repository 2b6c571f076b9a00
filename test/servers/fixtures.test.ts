import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Client as SshClient } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { describeServer } from '../../harness/servers/index.js';
import {
  ALL_PRINTABLE_ASCII,
  createUnixUser,
  deleteUnixUser,
  mariadbAdminQuery,
  mariadbCreateUser,
  mariadbDropUser,
  mariadbPasswordWorks,
  pgAdminQuery,
  pgCreateRole,
  pgDropRole,
  pgPasswordWorks,
  SUDO_GROUP,
  uniqueName,
  unixPasswordWorks,
  withRootPassword,
} from '../../harness/servers/fixtures.js';

const isRoot = process.getuid?.() === 0;

describe('uniqueName', () => {
  it('makes distinct lower-case names of at most 20 characters', () => {
    const names = new Set(Array.from({ length: 200 }, () => uniqueName('rpr')));
    expect(names.size).toBe(200);
    for (const name of names) expect(name).toMatch(/^rpr_[a-z0-9]{1,16}$/);
    expect(uniqueName('abcdefghijkl').length).toBeLessThanOrEqual(20);
  });

  it('refuses a prefix that would not be a valid account name', () => {
    expect(() => uniqueName('Bad')).toThrow(/prefix/);
    expect(() => uniqueName('a;b')).toThrow(/prefix/);
    expect(() => uniqueName('abcdefghijklm')).toThrow(/prefix/);
  });
});

/** Runs `command` over SSH as `user` and feeds `stdin`; resolves with exit code and output. */
function sshExec(
  server: { host: string; port: number },
  user: string,
  password: string,
  command: string,
  stdin: string,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const client = new SshClient();
    client.on('error', reject);
    client.on('ready', () => {
      client.exec(command, (err, channel) => {
        if (err) return reject(err);
        let out = '';
        channel.on('data', (d: Buffer) => (out += d.toString()));
        channel.stderr.on('data', (d: Buffer) => (out += d.toString()));
        channel.on('exit', (code: number | null) => {
          client.end();
          resolve({ code, out });
        });
        channel.end(stdin);
      });
    });
    client.connect({ ...server, username: user, password, readyTimeout: 30_000 });
  });
}

describeServer('ssh', 'Unix account fixtures against the test sshd', (ssh) => {
  const created: string[] = [];
  afterAll(async () => {
    for (const name of created) await deleteUnixUser(name);
  });

  it.runIf(isRoot)('creates a user whose password (every printable ASCII character) logs in, and no other does', async () => {
    const name = uniqueName('rpr');
    created.push(name);
    await createUnixUser(name, ALL_PRINTABLE_ASCII);
    expect(await unixPasswordWorks(name, ALL_PRINTABLE_ASCII)).toBe(true);
    expect(await unixPasswordWorks(name, `${ALL_PRINTABLE_ASCII}x`)).toBe(false);
  });

  it.runIf(isRoot)('puts a sudo user in the group that sudo asks a password of', async () => {
    const name = uniqueName('rprsu');
    const password = `s'u"d\\o ${uniqueName('p')}`;
    created.push(name);
    await createUnixUser(name, password, { sudo: true });
    const groups = spawnSync('/usr/bin/id', ['-nG', name], { encoding: 'utf8' }).stdout.split(/\s+/);
    expect(groups).toContain(SUDO_GROUP);
    const result = await sshExec(ssh, name, password, "sudo -S -k -p '' /usr/bin/id -u", `${password}\n`);
    expect(result).toMatchObject({ code: 0 });
    expect(result.out.trim()).toBe('0');
  });

  it.runIf(isRoot)('deletes a user, and deleting a missing one succeeds', async () => {
    const name = uniqueName('rprdel');
    await createUnixUser(name, 'pw-for-delete');
    await deleteUnixUser(name);
    expect(spawnSync('/usr/bin/id', [name]).status).not.toBe(0);
    await deleteUnixUser(name);
  });

  it.runIf(isRoot)('gives root a password for su and then restores its shadow entry exactly', async () => {
    const name = uniqueName('rprsu');
    const userPassword = `user-${uniqueName('p')}`;
    const rootPassword = `root '"\\ $(x) ${uniqueName('p')}`;
    created.push(name);
    await createUnixUser(name, userPassword);
    const rootLine = (): string | undefined =>
      readFileSync('/etc/shadow', 'utf8').split('\n').find((l) => l.startsWith('root:'));
    const before = rootLine();
    const result = await withRootPassword(rootPassword, () =>
      sshExec(ssh, name, userPassword, 'su - root -c "/usr/bin/id -u"', `${rootPassword}\n`),
    );
    expect(result).toMatchObject({ code: 0 });
    expect(result.out).toMatch(/(^|Password: )0\n$/); // su writes its prompt without a newline
    expect(rootLine()).toBe(before);
  });
});

describeServer('postgresql', 'PostgreSQL fixtures against the test server', () => {
  const roles: string[] = [];
  afterAll(async () => {
    for (const role of roles) await pgDropRole(role);
  });

  it('runs superuser queries with bound parameters over TLS', async () => {
    const rows = await pgAdminQuery<{ v: string; ssl: boolean }>(
      'SELECT $1::text AS v, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      ["it's"],
    );
    expect(rows).toEqual([{ v: "it's", ssl: true }]);
  });

  it('creates a role whose password (every printable ASCII character) logs in, and no other does', async () => {
    const role = uniqueName('rpr');
    roles.push(role);
    await pgCreateRole(role, ALL_PRINTABLE_ASCII);
    expect(await pgPasswordWorks(role, ALL_PRINTABLE_ASCII)).toBe(true);
    expect(await pgPasswordWorks(role, ALL_PRINTABLE_ASCII.slice(1))).toBe(false);
    expect(await pgPasswordWorks(uniqueName('nobody'), 'x')).toBe(false);
  });
});

describeServer('mariadb', 'MariaDB fixtures against the test server', () => {
  const users: string[] = [];
  afterAll(async () => {
    for (const user of users) await mariadbDropUser(user);
  });

  it('runs admin statements with bound parameters over TLS', async () => {
    const rows = await mariadbAdminQuery<{ v: string }>('SELECT ? AS v', ["it's \\ \""]);
    expect(rows).toEqual([{ v: "it's \\ \"" }]);
    const ssl = await mariadbAdminQuery<{ Value: string }>("SHOW SESSION STATUS LIKE 'Ssl_version'");
    expect(ssl[0]?.Value).toMatch(/^TLS/);
  });

  it('creates a user whose password (every printable ASCII character) logs in, and no other does', async () => {
    const user = uniqueName('rpr');
    users.push(user);
    await mariadbCreateUser(user, ALL_PRINTABLE_ASCII);
    expect(await mariadbPasswordWorks(user, ALL_PRINTABLE_ASCII)).toBe(true);
    expect(await mariadbPasswordWorks(user, ALL_PRINTABLE_ASCII.slice(0, -1))).toBe(false);
    expect(await mariadbPasswordWorks(uniqueName('nobody'), 'x')).toBe(false);
  });
});
