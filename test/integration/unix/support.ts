// Helpers for the Unix adapter's tests on the real sshd and telnetd.
import { createHash } from 'node:crypto';
import { chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import type { Credential, TargetAdapter } from '../../../layers/engine/adapter.js';
import { Secret } from '../../../layers/engine/secret.js';
import type { Account } from '../../../layers/resources/common.js';
import { createUnixAdapter } from '../../../layers/resources/unix/adapter.js';
import { unixSchema, type UnixResource } from '../../../layers/resources/unix/schema.js';
import { ALL_PRINTABLE_ASCII, createUnixUser, deleteUnixUser, uniqueName } from '../../../harness/servers/fixtures.js';
import { stateDir } from '../../../harness/servers/index.js';
import ssh2 from 'ssh2';
import { ed25519KeyPair } from '../../support/ssh-keys.js';
import type { UnixShellSimulator } from '../../simulators/unix-shells/server.js';
import { adapterContext } from '../../../harness/support/adapter-context.js';

export const RESOURCE_ID = 'unix-test';

export function resource(over: Record<string, unknown>): UnixResource {
  return unixSchema('linux').parse({ id: RESOURCE_ID, type: 'linux', host: '127.0.0.1', ...over });
}

export function account(username: string): Account {
  return { id: `${RESOURCE_ID}/${username}`, resourceId: RESOURCE_ID, username, secretId: `secret/${username}`, tags: [] };
}

export function credential(username: string, password?: string, privateKey?: string): Credential {
  return {
    accountId: `${RESOURCE_ID}/${username}`,
    username,
    ...(password === undefined ? {} : { password: new Secret(password) }),
    ...(privateKey === undefined ? {} : { privateKey: new Secret(privateKey) }),
  };
}

export function unixAdapter(r: UnixResource, credentials: Record<string, Credential>, timeoutMs = 10_000): TargetAdapter {
  return createUnixAdapter(adapterContext(r, credentials, { timeoutMs }));
}

/** Users made by one test file, deleted in afterAll. */
export class Users {
  readonly #names: string[] = [];

  async create(prefix: string, password: string, opts: { sudo?: boolean } = {}): Promise<string> {
    const name = uniqueName(prefix);
    this.#names.push(name);
    await createUnixUser(name, password, opts);
    return name;
  }

  async deleteAll(): Promise<void> {
    for (const name of this.#names.splice(0)) await deleteUnixUser(name);
  }
}

/** An ed25519 key pair in OpenSSH format, the public key installed in the user's authorized_keys. */
export async function installKey(user: string): Promise<string> {
  const keys = ed25519KeyPair();
  const home = `/home/${user}`;
  const { uid, gid } = await stat(home);
  await mkdir(`${home}/.ssh`, { mode: 0o700 });
  await writeFile(`${home}/.ssh/authorized_keys`, `${keys.public}\n`, { mode: 0o600 });
  for (const path of [`${home}/.ssh`, `${home}/.ssh/authorized_keys`]) await chown(path, uid, gid);
  return keys.private;
}

/** The test sshd's host key fingerprint, as `ssh-keygen -lf` prints it (without "SHA256:"). */
export async function sshHostKeySha256(): Promise<string> {
  const pub = await readFile(`${stateDir}ssh/ssh_host_ed25519_key.pub`, 'utf8');
  const blob = Buffer.from(pub.split(' ')[1]!, 'base64');
  return createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** A password of exactly `bytes` UTF-8 bytes, mixing ASCII and multi-byte characters. */
export function passwordOfBytes(bytes: number): string {
  let s = 'Ä€😀';
  while (Buffer.byteLength(s, 'utf8') < bytes) s += ALL_PRINTABLE_ASCII[Buffer.byteLength(s, 'utf8') % ALL_PRINTABLE_ASCII.length];
  if (Buffer.byteLength(s, 'utf8') !== bytes) throw new Error('passwordOfBytes: length mismatch');
  return s;
}

/** The user's /etc/shadow line, to show that a dry run left the password (and its dates) as they were. */
export async function shadowEntry(user: string): Promise<string | undefined> {
  return (await readFile('/etc/shadow', 'utf8')).split('\n').find((l) => l.startsWith(`${user}:`));
}

/**
 * A fresh SSH login to the Unix shell simulator that runs `id -un`: it proves a password only if
 * the account may be used with it (an AIX login with ADMCHG set must change its password first).
 */
export function shellLoginWorks(sim: UnixShellSimulator, username: string, password: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('ready', () => {
      client.exec('id -un', (err, channel) => {
        if (err) return reject(err);
        let out = '';
        channel.on('data', (d: Buffer) => (out += d.toString()));
        channel.stderr.on('data', () => undefined);
        channel.on('close', (code: number | null) => {
          client.end();
          resolve(code === 0 && out.trim() === username);
        });
      });
    });
    client.on('error', (err: Error & { level?: string }) => {
      client.end();
      if (err.level === 'client-authentication') resolve(false);
      else reject(err);
    });
    client.connect({ host: sim.host, port: sim.port, username, password, readyTimeout: 10_000, tryKeyboard: false });
  });
}
