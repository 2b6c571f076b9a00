// Helpers for the Windows adapter's tests on the simulated Windows OpenSSH host.
import type { Credential, TargetAdapter } from '../../../layers/engine/adapter.js';
import { Secret } from '../../../layers/engine/secret.js';
import type { Account } from '../../../layers/resources/common.js';
import { createWindowsAdapter } from '../../../layers/resources/windows/adapter.js';
import { windowsSchema, type WindowsResource } from '../../../layers/resources/windows/schema.js';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import type { WindowsOpenSshSimulator } from '../../simulators/windows-openssh/server.js';
import { sshAuthenticates } from '../../support/ssh-login.js';

export const RESOURCE_ID = 'win-test';

export function resource(sim: WindowsOpenSshSimulator, over: Record<string, unknown> = {}): WindowsResource {
  return windowsSchema.parse({
    id: RESOURCE_ID,
    type: 'windows',
    host: sim.host,
    port: sim.port,
    hostKeySha256: sim.hostKeySha256,
    adminAccount: `${RESOURCE_ID}/Administrator`,
    ...over,
  });
}

export function account(username: string): Account {
  return { id: `${RESOURCE_ID}/${username}`, resourceId: RESOURCE_ID, username, secretId: `secret/${username}`, tags: [] };
}

export function credential(username: string, password: string, accountId = `${RESOURCE_ID}/${username}`, extra: Record<string, unknown> = {}): Credential {
  return { accountId, username, password: new Secret(password), ...extra };
}

export function windowsAdapter(r: WindowsResource, admin: Credential, timeoutMs = 10_000): TargetAdapter {
  return createWindowsAdapter(adapterContext(r, { admin }, { timeoutMs }));
}

/**
 * Whether a fresh SSH login with this name and password is accepted: the proof a user sees,
 * made with the ssh2 client directly, not with the adapter under test.
 */
export function loginWorks(sim: WindowsOpenSshSimulator, username: string, password: string): Promise<boolean> {
  return sshAuthenticates(sim, username, password);
}

/** A password of exactly `length` characters (UTF-16 code units and code points alike), mixing ASCII and non-ASCII letters. */
export function passwordOfLength(length: number): string {
  const pool = 'Aä1!Zß9 ~"\'\\`$日';
  let s = '';
  for (let i = 0; s.length < length; i++) s += pool[i % pool.length];
  return s;
}
