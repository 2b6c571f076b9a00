import { Control, type Client, type Entry } from 'ldapts';
import { classifyAdError } from './errors.js';

/**
 * Whether the bound login holds the "Reset Password" right (User-Force-Change-Password) on an
 * account, read without trying a reset: the account's DACL against the login's SIDs. Neither AD
 * nor Samba 4.17 says it directly: allowedAttributesEffective lists the attributes one may write,
 * and a reset of unicodePwd needs the control access right, not a write (tried on Samba 4.17: a
 * login given only that right sees no unicodePwd there, and its reset succeeds).
 * The check follows [MS-DTYP] 2.5.3.2 (access check, object ACEs) for one right: the first ACE of
 * the DACL that applies to one of the login's SIDs and names the right decides.
 */

/** [MS-ADTS] 5.1.3.2.1 Control Access Rights: User-Force-Change-Password. */
const FORCE_CHANGE_PASSWORD = '00299570-246d-11d0-a768-00aa006e0529';
/** Everyone, Authenticated Users: in every token, never in tokenGroups. */
const WELL_KNOWN = ['S-1-1-0', 'S-1-5-11'];

const ADS_RIGHT_DS_CONTROL_ACCESS = 0x100;
const GENERIC_ALL = 0x10000000;
const INHERIT_ONLY_ACE = 0x08;
const ACE = { allowed: 0x00, denied: 0x01, allowedObject: 0x05, deniedObject: 0x06 } as const;

/** LDAP_SERVER_SD_FLAGS_OID with DACL_SECURITY_INFORMATION: the DACL only, which a reader with READ_CONTROL may see. */
class DaclOnlyControl extends Control {
  constructor() {
    super('1.2.840.113556.1.4.801', { critical: true });
  }
  protected override writeControl(writer: Parameters<Control['write']>[0]): void {
    writer.writeBuffer(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x04]), 0x04);
  }
}

export function sidToString(b: Buffer, at = 0): string {
  const count = b[at + 1]!;
  const subs: number[] = [];
  for (let i = 0; i < count; i++) subs.push(b.readUInt32LE(at + 8 + 4 * i));
  return `S-${b[at]}-${b.readUIntBE(at + 2, 6)}${subs.map((s) => `-${s}`).join('')}`;
}

function guidToString(b: Buffer, at: number): string {
  const h = (start: number, end: number) => b.subarray(at + start, at + end).toString('hex');
  const le = (start: number, end: number) => Buffer.from(b.subarray(at + start, at + end)).reverse().toString('hex');
  return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${h(8, 10)}-${h(10, 16)}`;
}

/** 'allow' or 'deny' from the first ACE that decides the reset right for these SIDs; undefined when none does (denied). */
export function resetRightIn(sd: Buffer, sids: ReadonlySet<string>): 'allow' | 'deny' | undefined {
  const daclAt = sd.readUInt32LE(16);
  if (daclAt === 0) return 'allow'; // no DACL: everyone has every right
  const count = sd.readUInt16LE(daclAt + 4);
  let at = daclAt + 8;
  for (let i = 0; i < count; i++) {
    const type = sd[at]!;
    const flags = sd[at + 1]!;
    const size = sd.readUInt16LE(at + 2);
    const decision = decide(sd, at, type, flags, sids);
    if (decision) return decision;
    at += size;
  }
  return undefined;
}

function decide(sd: Buffer, at: number, type: number, flags: number, sids: ReadonlySet<string>): 'allow' | 'deny' | undefined {
  if (flags & INHERIT_ONLY_ACE) return undefined;
  const mask = sd.readUInt32LE(at + 4);
  if (!(mask & (ADS_RIGHT_DS_CONTROL_ACCESS | GENERIC_ALL))) return undefined;
  let sidAt = at + 8;
  if (type === ACE.allowedObject || type === ACE.deniedObject) {
    const present = sd.readUInt32LE(at + 8);
    sidAt = at + 12;
    if (present & 1) {
      if (guidToString(sd, sidAt) !== FORCE_CHANGE_PASSWORD && !(mask & GENERIC_ALL)) return undefined;
      sidAt += 16;
    }
    // An inherited object type limits which children inherit the ACE; where it does not apply, the
    // child's copy is inherit-only (skipped above), so it plays no part in the access check.
    if (present & 2) sidAt += 16;
  } else if (type !== ACE.allowed && type !== ACE.denied) {
    return undefined;
  }
  if (!sids.has(sidToString(sd, sidAt))) return undefined;
  return type === ACE.allowed || type === ACE.allowedObject ? 'allow' : 'deny';
}

function buffer(entry: Entry | undefined, name: string): Buffer | undefined {
  const key = entry && Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key ? entry[key] : undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return Buffer.isBuffer(first) ? first : undefined;
}

/** The bound login's SIDs: its own, its groups' (tokenGroups, read on its own entry), and the well-known ones. */
export async function loginSids(client: Client, loginDn: string): Promise<Set<string>> {
  try {
    const { searchEntries } = await client.search(loginDn, { scope: 'base', attributes: ['objectSid', 'tokenGroups'], explicitBufferAttributes: ['objectSid', 'tokenGroups'] });
    const entry = searchEntries[0];
    const groups = entry ? (Object.entries(entry).find(([k]) => k.toLowerCase() === 'tokengroups')?.[1] ?? []) : [];
    const own = buffer(entry, 'objectSid');
    return new Set([...WELL_KNOWN, ...(own ? [sidToString(own)] : []), ...(Array.isArray(groups) ? groups : [groups]).filter(Buffer.isBuffer).map((g) => sidToString(g))]);
  } catch (e) {
    throw classifyAdError(e, { operation: "reading the login's groups (tokenGroups)", sent: false });
  }
}

/** The account's DACL as the login may read it; undefined when it may not (no READ_CONTROL). */
export async function accountDacl(client: Client, dn: string): Promise<Buffer | undefined> {
  try {
    const { searchEntries } = await client.search(dn, { scope: 'base', attributes: ['nTSecurityDescriptor'], explicitBufferAttributes: ['nTSecurityDescriptor'] }, new DaclOnlyControl());
    return buffer(searchEntries[0], 'nTSecurityDescriptor');
  } catch (e) {
    throw classifyAdError(e, { operation: `reading the security descriptor of ${dn}`, sent: false });
  }
}
