// Accounts on the real Samba AD DC for the windows-domain adapter's tests. Every password travels
// as an LDAP binary value (unicodePwd) or a bind password over TLS: never in argv or a shell string.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Attribute, Change, Client, EqualityFilter } from 'ldapts';
import { adapterContext } from '../../../harness/support/adapter-context.js';
import { recordingStore } from '../../support/leaks.js';
import type { AdapterContext, AdapterFactory, Credential } from '../../../layers/engine/adapter.js';
import { Configurator } from '../../../layers/engine/configure.js';
import { ResetEngine } from '../../../layers/engine/engine.js';
import { Log } from '../../../layers/engine/log.js';
import type { AdapterRegistry } from '../../../layers/engine/session.js';
import { openEmbeddedStores } from '../../../layers/engine/stores/embedded.js';
import { AWSCURRENT, AWSPREVIOUS } from '../../../layers/engine/stores/types.js';
import { createWindowsDomainAdapter } from '../../../layers/resources/windows-domain/adapter.js';
import { Secret } from '../../../layers/engine/secret.js';
import type { Account } from '../../../layers/resources/common.js';
import { windowsDomainSchema, type WindowsDomainResource } from '../../../layers/resources/windows-domain/schema.js';
import { uniqueName } from '../../../harness/servers/fixtures.js';
import { stateDir, type Servers } from '../../../harness/servers/index.js';
import { sidToString } from '../../../layers/resources/windows-domain/rights.js';
import { REGISTRY } from '../../../layers/resources/registry.js';

export type SambaInfo = Servers['samba'];

export const RESOURCE_ID = 'ad-test';

/** The domain's DNS name, from the realm ("RPR.TEST" → "rpr.test"). */
export function dnsDomain(info: SambaInfo): string {
  return info.realm.toLowerCase();
}

export function usersContainer(info: SambaInfo): string {
  return `CN=Users,${info.baseDn}`;
}

export function resource(info: SambaInfo, over: Record<string, unknown> = {}): WindowsDomainResource {
  return windowsDomainSchema.parse({
    id: RESOURCE_ID,
    type: 'windows-domain',
    host: info.host,
    domain: dnsDomain(info),
    mode: 'ldaps',
    port: info.ldapsPort,
    caCertificate: readFileSync(info.caFile, 'utf8'),
    ...over,
  });
}

export function account(username: string, resourceId = RESOURCE_ID): Account {
  return { id: `${resourceId}/${username}`, resourceId, username, secretId: `secret/${username}`, tags: [] };
}

export function credential(username: string, password: string, resourceId = RESOURCE_ID): Credential {
  return { accountId: `${resourceId}/${username}`, username, password: new Secret(password) };
}

export function context(r: WindowsDomainResource, admin?: Credential, secrets: string[] = []): AdapterContext<WindowsDomainResource> {
  return adapterContext(r, admin ? { admin } : {}, { secrets, timeoutMs: 10_000 });
}

/**
 * A password the test domain takes and has never seen (Samba keeps a history of 24): upper, lower,
 * digit and symbol, no account name in it. `extra` is appended (a gauntlet character, say).
 */
export function freshPassword(extra = ''): string {
  return `Rp-${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}-9z${extra}`;
}

/** A fresh sAMAccountName (at most 20 characters). */
export function uniqueSam(prefix = 'wd'): string {
  return uniqueName(prefix);
}

async function connect(info: SambaInfo): Promise<Client> {
  const client = new Client({ url: `ldaps://${info.host}:${info.ldapsPort}`, timeout: 10_000, connectTimeout: 10_000, tlsOptions: { ca: readFileSync(info.caFile, 'utf8') } });
  return client;
}

/** Runs `fn` on a connection bound as the domain's Administrator. */
export async function asAdministrator<T>(info: SambaInfo, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = await connect(info);
  try {
    await client.bind(`${info.adminUser}@${dnsDomain(info)}`, info.adminPassword);
    return await fn(client);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

function unicodePwd(password: string): Buffer {
  return Buffer.from(`"${password}"`, 'utf16le');
}

export interface TestUser {
  readonly sam: string;
  readonly dn: string;
  readonly upn: string;
}

/**
 * Creates an enabled user (userAccountControl 512) with a password. `cn` defaults to the
 * sAMAccountName; it is escaped here as RFC 4514 asks, for names with LDAP-special characters.
 */
export async function createUser(info: SambaInfo, password: string, options: { sam?: string; cn?: string; displayName?: string; container?: string } = {}): Promise<TestUser> {
  const sam = options.sam ?? uniqueSam();
  const cn = options.cn ?? sam;
  const dn = `CN=${escapeDnValue(cn)},${options.container ?? usersContainer(info)}`;
  const upn = `${sam}@${dnsDomain(info)}`;
  await asAdministrator(info, async (c) => {
    await c.add(dn, [
      new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
      new Attribute({ type: 'cn', values: [cn] }),
      new Attribute({ type: 'sAMAccountName', values: [sam] }),
      new Attribute({ type: 'userPrincipalName', values: [upn] }),
      ...(options.displayName ? [new Attribute({ type: 'displayName', values: [options.displayName] })] : []),
      new Attribute({ type: 'unicodePwd', values: [unicodePwd(password)] }),
      new Attribute({ type: 'userAccountControl', values: ['512'] }),
    ]);
  });
  return { sam, dn, upn };
}

/** Makes the user a Domain Admin (the "Reset password" right on every user). */
export async function makeDomainAdmin(info: SambaInfo, user: TestUser): Promise<void> {
  await asAdministrator(info, (c) => c.modify(`CN=Domain Admins,${usersContainer(info)}`, [new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [user.dn] }) })]));
}

export async function deleteUser(info: SambaInfo, dn: string): Promise<void> {
  await asAdministrator(info, (c) => c.del(dn)).catch(() => undefined);
}

/** An admin's direct reset, outside the product (for drift tests). */
export async function setPasswordDirectly(info: SambaInfo, dn: string, password: string): Promise<void> {
  await asAdministrator(info, (c) => c.modify(dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [unicodePwd(password)] }) })]));
}

/** Attributes of one entry, as strings, read as Administrator. */
export async function readUser(info: SambaInfo, sam: string, attributes: string[]): Promise<Record<string, string | undefined>> {
  return asAdministrator(info, async (c) => {
    const { searchEntries } = await c.search(info.baseDn, { scope: 'sub', filter: new EqualityFilter({ attribute: 'sAMAccountName', value: sam }), attributes });
    const entry = searchEntries[0];
    const out: Record<string, string | undefined> = {};
    for (const a of attributes) {
      const key = entry && Object.keys(entry).find((k) => k.toLowerCase() === a.toLowerCase());
      const v = key ? entry[key] : undefined;
      out[a] = v === undefined || (Array.isArray(v) && v.length === 0) ? undefined : String(Array.isArray(v) ? v[0] : v);
    }
    return out;
  });
}

/**
 * Whether a simple bind as `who` (DN or UPN) with the password succeeds, on a fresh LDAPS connection.
 * A refused password is false (and costs one failed logon); anything else throws.
 */
export async function bindWorks(info: SambaInfo, who: string, password: string): Promise<boolean> {
  const client = await connect(info);
  try {
    await client.bind(who, password);
    return true;
  } catch (e) {
    if ((e as { code?: unknown }).code === 49 && /data 52e/.test(String((e as Error).message))) return false;
    throw e;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/** Resets the user's failed-logon count and lockout (as an admin does with "unlock account"). */
export async function unlock(info: SambaInfo, dn: string): Promise<void> {
  await asAdministrator(info, (c) => c.modify(dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'lockoutTime', values: ['0'] }) })]));
}

/** RFC 4514 escaping of an attribute value, for building test DNs. */
export function escapeDnValue(value: string): string {
  let out = '';
  [...value].forEach((c, i, all) => {
    if ('"+,;<>\\='.includes(c) || (i === 0 && (c === '#' || c === ' ')) || (i === all.length - 1 && c === ' ')) out += `\\${c}`;
    else out += c;
  });
  return out;
}

/**
 * The engine on the embedded stores (a temporary folder: the state journal and the local vault), with the
 * windows-domain adapter; every value written to the vault is recorded for the leak search.
 */
export async function engineHarness(dir: string, adapters: AdapterRegistry = { 'windows-domain': createWindowsDomainAdapter as AdapterFactory<never> }) {
  const stores = await openEmbeddedStores({ dir, vaultKey: VAULT_KEY });
  const { store: credentials, written } = recordingStore(stores.credentials);
  const engine = new ResetEngine({ registry: REGISTRY, state: stores.state, credentials, adapters, log: new Log({ level: 'DEBUG' }), timeoutMs: 10_000 });
  const config = new Configurator(stores.state, credentials, REGISTRY);
  return {
    stores,
    credentials,
    written,
    engine,
    config,
    async current(secretId: string) {
      return (await credentials.getValue(secretId, { stage: AWSCURRENT })).value.reveal();
    },
    async previous(secretId: string) {
      return (await credentials.getValue(secretId, { stage: AWSPREVIOUS })).value.reveal();
    },
    async stages(secretId: string) {
      return credentials.listVersions(secretId);
    },
    close: () => stores.close(),
  };
}

/** The embedded vault's key for test data folders (RPR_VAULT_KEY for the CLI on the same folder). */
export const VAULT_KEY = Buffer.alloc(32, 41);

/**
 * A fine-grained Password Settings Object applying to one account (precedence 1), with the domain's
 * other settings; returns its DN. Delete it with deletePso.
 */
export async function createPso(info: SambaInfo, appliesTo: TestUser, settings: { minLength?: number; lockoutThreshold?: number; minAgeDays?: number } = {}): Promise<string> {
  const dn = `CN=rpr-pso-${appliesTo.sam},CN=Password Settings Container,CN=System,${info.baseDn}`;
  const value = (type: string, v: string) => new Attribute({ type, values: [v] });
  await asAdministrator(info, (c) =>
    c.add(dn, [
      value('objectClass', 'msDS-PasswordSettings'),
      value('msDS-PasswordSettingsPrecedence', '1'),
      value('msDS-PasswordReversibleEncryptionEnabled', 'FALSE'),
      value('msDS-PasswordHistoryLength', '24'),
      value('msDS-PasswordComplexityEnabled', 'TRUE'),
      value('msDS-MinimumPasswordLength', String(settings.minLength ?? 7)),
      value('msDS-MinimumPasswordAge', String(-BigInt(settings.minAgeDays ?? 0) * 864_000_000_000n)),
      value('msDS-MaximumPasswordAge', '-37108517437440'),
      value('msDS-LockoutThreshold', String(settings.lockoutThreshold ?? info.lockoutThreshold)),
      value('msDS-LockoutObservationWindow', '-600000000'),
      value('msDS-LockoutDuration', '-600000000'),
      value('msDS-PSOAppliesTo', appliesTo.dn),
    ]),
  );
  return dn;
}

export async function deletePso(info: SambaInfo, dn: string): Promise<void> {
  await asAdministrator(info, (c) => c.del(dn)).catch(() => undefined);
}

/**
 * Gives `to` the "Reset Password" control access right (User-Force-Change-Password) on `on`'s entry
 * only (or denies it), as an operator delegates it: an ACE added with samba-tool on the DC's own database (as root,
 * no password on a command line). Deleting `on` removes it.
 */
export async function delegateResetPassword(info: SambaInfo, to: TestUser, on: TestUser, action: 'allow' | 'deny' = 'allow'): Promise<void> {
  const sid = await asAdministrator(info, async (c) => {
    const { searchEntries } = await c.search(to.dn, { scope: 'base', attributes: ['objectSid'], explicitBufferAttributes: ['objectSid'] });
    return sidToString(searchEntries[0]!.objectSid as Buffer);
  });
  const dir = `${stateDir}samba`;
  await new Promise<void>((resolve, reject) =>
    execFile(
      'samba-tool',
      ['dsacl', 'set', `--configfile=${dir}/etc/smb.conf`, '-H', `${dir}/private/sam.ldb`, `--objectdn=${on.dn}`, `--action=${action}`, `--sddl=(O${action === 'allow' ? 'A' : 'D'};;CR;00299570-246d-11d0-a768-00aa006e0529;;${sid})`],
      (e) => (e ? reject(e) : resolve()),
    ),
  );
}
