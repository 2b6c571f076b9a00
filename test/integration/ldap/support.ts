// Helpers for the LDAP adapter's tests on the real slapd (test/servers/setup.sh, server "ldap").
// Fixtures talk to slapd with their own ldapts clients, independent of the adapter's connection code.
import { readFileSync } from 'node:fs';
import { Attribute, Change, Client, InvalidCredentialsError } from 'ldapts';
import type { AdapterContext, Credential } from '../../../layers/engine/adapter.js';
import { Secret } from '../../../layers/engine/secret.js';
import type { Account } from '../../../layers/resources/common.js';
import { ldapSchema, type LdapResource } from '../../../layers/resources/ldap/schema.js';
import { sshaUserPassword } from '../../../layers/resources/ldap/ssha.js';
import { uniqueName } from '../../../harness/servers/fixtures.js';
import type { Servers } from '../../../harness/servers/index.js';
import type { FaultProxy } from '../../servers/proxy.js';
import { adapterContext } from '../../../harness/support/adapter-context.js';

export type LdapInfo = Servers['ldap'];
export type Suffix = 'rpr' | 'clear';

export const RESOURCE_ID = 'ldap-test';

export function caOf(info: LdapInfo): string {
  return readFileSync(info.caFile, 'utf8');
}

export function baseOf(info: LdapInfo, suffix: Suffix): string {
  return suffix === 'rpr' ? info.baseDn : info.clearBaseDn;
}

/** A resource over LDAPS with the test CA, unless overridden. */
export function resource(info: LdapInfo, over: Partial<Record<string, unknown>> = {}): LdapResource {
  return ldapSchema.parse({
    id: RESOURCE_ID,
    type: 'ldap',
    serverType: 'openldap',
    host: info.host,
    port: info.ldapsPort,
    ssl: true,
    caCertificate: caOf(info),
    ...over,
  });
}

export function account(dn: string, id = `${RESOURCE_ID}/${dn}`): Account {
  return { id, resourceId: RESOURCE_ID, username: dn, secretId: `secret/${id}`, tags: [] };
}

export function credential(dn: string, password: string, accountId = `${RESOURCE_ID}/${dn}`): Credential {
  return { accountId, username: dn, password: new Secret(password) };
}

export function context(r: LdapResource, admin?: Credential, secrets: string[] = [], timeoutMs = 5_000): AdapterContext<LdapResource> {
  return adapterContext(r, admin ? { admin } : {}, { secrets, timeoutMs });
}

/** The password-admins member (not a root DN: ACLs and ppolicy apply to it). */
export function adminCredential(info: LdapInfo): Credential {
  return credential(info.adminDn, info.adminPassword, `${RESOURCE_ID}/pwadmin`);
}

async function connect(info: LdapInfo): Promise<Client> {
  return new Client({ url: `ldaps://${info.host}:${info.ldapsPort}`, tlsOptions: { ca: caOf(info) }, connectTimeout: 5_000, timeout: 10_000 });
}

/** Runs `work` bound as a root DN of the suffix (setup only: root bypasses ACLs and ppolicy). */
export async function asRoot<T>(info: LdapInfo, suffix: Suffix, work: (c: Client) => Promise<T>): Promise<T> {
  const c = await connect(info);
  try {
    await c.bind(suffix === 'rpr' ? info.rootDn : info.clearRootDn, suffix === 'rpr' ? info.rootPassword : info.clearRootPassword);
    return await work(c);
  } finally {
    await c.unbind().catch(() => undefined);
  }
}

/** Runs `work` bound as the password admin (what the product's admin can see). */
export async function asAdmin<T>(info: LdapInfo, work: (c: Client) => Promise<T>): Promise<T> {
  const c = await connect(info);
  try {
    await c.bind(info.adminDn, info.adminPassword);
    return await work(c);
  } finally {
    await c.unbind().catch(() => undefined);
  }
}

/** Entries created by a suite, deleted by `cleanup`. */
export class People {
  readonly created: { dn: string; suffix: Suffix }[] = [];
  constructor(private readonly info: LdapInfo) {}

  /**
   * Adds an inetOrgPerson under ou=people of the suffix with a password (stored as {SSHA}).
   * `rdn`: builds the RDN, already escaped for a DN, from the entry's unique uid (default: uid=<uid>).
   */
  async add(password: string, options: { suffix?: Suffix; rdn?: (uid: string) => string; cn?: string } = {}): Promise<string> {
    const suffix = options.suffix ?? 'rpr';
    const uid = uniqueName('rprl');
    const dn = `${options.rdn ? options.rdn(uid) : `uid=${uid}`},ou=people,${baseOf(this.info, suffix)}`;
    await asRoot(this.info, suffix, (c) =>
      c.add(dn, [
        new Attribute({ type: 'objectClass', values: ['inetOrgPerson'] }),
        new Attribute({ type: 'uid', values: [uid] }),
        new Attribute({ type: 'cn', values: [options.cn ?? uid] }),
        new Attribute({ type: 'sn', values: [uid] }),
        new Attribute({ type: 'userPassword', values: [Buffer.from(sshaUserPassword(new Secret(password)))] }),
      ]),
    );
    this.created.push({ dn, suffix });
    return dn;
  }

  async cleanup(): Promise<void> {
    for (const { dn, suffix } of this.created.reverse()) await asRoot(this.info, suffix, (c) => c.del(dn)).catch(() => undefined);
    this.created.length = 0;
  }
}

/** Whether a fresh simple bind (LDAPS, independent of the adapter) accepts the password. */
export async function binds(info: LdapInfo, dn: string, password: string): Promise<boolean> {
  const c = await connect(info);
  try {
    await c.bind(dn, password);
    return true;
  } catch (e) {
    if (e instanceof InvalidCredentialsError) return false;
    throw e;
  } finally {
    await c.unbind().catch(() => undefined);
  }
}

/** The entry's userPassword values as the password admin reads them. */
export async function storedUserPasswords(info: LdapInfo, dn: string): Promise<string[]> {
  return asAdmin(info, async (c) => {
    const { searchEntries } = await c.search(dn, { scope: 'base', attributes: ['userPassword'], explicitBufferAttributes: ['userPassword'] });
    const raw = searchEntries[0]?.userPassword as Buffer | Buffer[] | undefined;
    const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    return values.map((v) => v.toString('utf8'));
  });
}

/** Sets userPassword as given (root, bypassing hashing on the clear suffix): a server that stores clear text. */
export async function setUserPasswordAsGiven(info: LdapInfo, suffix: Suffix, dn: string, password: string): Promise<void> {
  await asRoot(info, suffix, (c) => c.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: [password] }) })));
}

/** Every printable ASCII character (space to tilde), 95 of them. */
export const PRINTABLE_ASCII = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

/** The protocolOp tag of an LDAPMessage at the start of a chunk (0x78: ExtendedResponse, 0x67: ModifyResponse). */
export function ldapOpTag(chunk: Buffer): number | undefined {
  if (chunk[0] !== 0x30 || chunk.length < 6) return undefined;
  const len = chunk[1]!;
  const i = 1 + (len & 0x80 ? 1 + (len & 0x7f) : 1);
  if (chunk[i] !== 0x02) return undefined;
  return chunk[i + 2 + chunk[i + 1]!];
}

export const EXTENDED_RESPONSE = 0x78;
export const MODIFY_RESPONSE = 0x67;

/**
 * One-shot: cuts the proxied connection that carries the server's answer of the given kind, before
 * the answer reaches the client. The server has applied the operation; the client cannot know.
 */
export function cutWhenServerAnswers(proxy: FaultProxy, tag: number): void {
  let armed = true;
  proxy.onServerData((chunk, conn) => {
    if (armed && ldapOpTag(chunk) === tag) {
      armed = false;
      conn.cut();
    }
  });
}
