import { AndFilter, EqualityFilter, OrFilter, type Client, type Entry, type Filter } from 'ldapts';
import { InvalidConfigurationError, TargetUnchangedError } from '../../engine/errors.js';
import { classifyAdError } from './errors.js';
import { DOMAIN_POLICY_ATTRIBUTES, fileTimeToDate, parseDomainPolicy, parsePsoPolicy, PSO_ATTRIBUTES, type DomainPolicy } from './policy.js';

/**
 * The domain's directory as the adapter reads it: the rootDSE, the domain head's policy and the
 * accounts. Account names only ever travel as filter values (BER-encoded EqualityFilters, which
 * need no escaping and cannot change the filter's shape) or, for a DN, as a filter value too, so
 * a name can only ever match itself, under the search base.
 */

/** How an account was named: its DN, its user principal name, or its sAMAccountName. */
export type AccountName = { readonly kind: 'dn' | 'upn' | 'sam'; readonly value: string };

/** sAMAccountNames and UPN prefixes may not hold "=" (the schema refuses it), so any "=" means a DN. */
export function accountName(username: string): AccountName {
  if (username.includes('=')) return { kind: 'dn', value: username };
  if (username.includes('@')) return { kind: 'upn', value: username };
  return { kind: 'sam', value: username };
}

/**
 * The name a simple bind uses before the DN is known: the DN or UPN as given, and for a bare
 * sAMAccountName the implicit UPN "name@domain", which every AD DC takes for accounts of its domain.
 */
export function bindName(name: AccountName, domain: string): string {
  return name.kind === 'sam' ? `${name.value}@${domain}` : name.value;
}

export const ACCOUNT_ATTRIBUTES = [
  'sAMAccountName',
  'userPrincipalName',
  'displayName',
  'pwdLastSet',
  'badPwdCount',
  'badPasswordTime',
  'lockoutTime',
  'userAccountControl',
  // Constructed: the fine-grained Password Settings Object that applies to the account, if any.
  'msDS-ResultantPSO',
] as const;

export interface AccountEntry {
  /** The DN as the directory spells it. */
  readonly dn: string;
  readonly sAMAccountName: string;
  readonly userPrincipalName?: string | undefined;
  readonly displayName?: string | undefined;
  readonly pwdLastSet?: Date | undefined;
  /** Undefined when the bound account may not read it. */
  readonly badPwdCount?: number | undefined;
  readonly badPasswordTime?: Date | undefined;
  readonly lockoutTime?: Date | undefined;
  /** The DN of the Password Settings Object that applies, when one does and the reader may see it. */
  readonly resultantPso?: string | undefined;
}

function attr(entry: Entry, name: string): unknown {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : entry[key];
  if (Array.isArray(v)) return v.length === 0 ? undefined : v[0];
  return v;
}

function str(entry: Entry, name: string): string | undefined {
  const v = attr(entry, name);
  if (v === undefined) return undefined;
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

function num(entry: Entry, name: string): number | undefined {
  const v = str(entry, name);
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
}

/** The rootDSE's defaultNamingContext: the domain head's DN. */
export async function defaultNamingContext(client: Client): Promise<string> {
  let entries: Entry[];
  try {
    ({ searchEntries: entries } = await client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['defaultNamingContext'] }));
  } catch (e) {
    throw classifyAdError(e, { operation: 'reading the rootDSE', sent: false });
  }
  const dn = entries[0] && str(entries[0], 'defaultNamingContext');
  if (!dn) throw new TargetUnchangedError('reading the rootDSE: the server named no defaultNamingContext; is it an Active Directory domain controller?');
  return dn;
}

export async function readDomainPolicy(client: Client, domainDn: string): Promise<DomainPolicy> {
  let entries: Entry[];
  try {
    ({ searchEntries: entries } = await client.search(domainDn, { scope: 'base', filter: '(objectClass=*)', attributes: [...DOMAIN_POLICY_ATTRIBUTES] }));
  } catch (e) {
    throw classifyAdError(e, { operation: "reading the domain's password policy", sent: false });
  }
  const entry = entries[0];
  if (!entry) throw new TargetUnchangedError(`reading the domain's password policy: no entry at ${domainDn}`);
  const values: Record<string, unknown> = {};
  for (const a of DOMAIN_POLICY_ATTRIBUTES) values[a] = attr(entry, a);
  return parseDomainPolicy(values);
}

/** A Password Settings Object's policy; by default only Domain Admins may read these. */
export async function readPsoPolicy(client: Client, psoDn: string): Promise<DomainPolicy> {
  let entries: Entry[];
  try {
    ({ searchEntries: entries } = await client.search(psoDn, { scope: 'base', filter: '(objectClass=msDS-PasswordSettings)', attributes: [...PSO_ATTRIBUTES] }));
  } catch (e) {
    throw classifyAdError(e, { operation: `reading the password settings object ${psoDn}`, sent: false });
  }
  const entry = entries[0];
  if (!entry || str(entry, 'msDS-LockoutThreshold') === undefined) throw new TargetUnchangedError(`reading the password settings object ${psoDn}: not readable`);
  const values: Record<string, unknown> = {};
  for (const a of PSO_ATTRIBUTES) values[a] = attr(entry, a);
  return parsePsoPolicy(values);
}

function eq(attribute: string, value: string): EqualityFilter {
  return new EqualityFilter({ attribute, value });
}

/** The search filter for an account name: only user objects (which include computers), only an exact match. */
export function accountFilter(name: AccountName, domain: string): Filter {
  const user = eq('objectClass', 'user');
  switch (name.kind) {
    case 'dn':
      return new AndFilter({ filters: [user, eq('distinguishedName', name.value)] });
    case 'upn': {
      const at = name.value.lastIndexOf('@');
      const suffix = name.value.slice(at + 1);
      // The implicit UPN (sAMAccountName@dnsDomain) works for accounts without an explicit one.
      const implicit = suffix.toLowerCase() === domain.toLowerCase() ? [eq('sAMAccountName', name.value.slice(0, at))] : [];
      return new AndFilter({ filters: [user, implicit.length ? new OrFilter({ filters: [eq('userPrincipalName', name.value), ...implicit] }) : eq('userPrincipalName', name.value)] });
    }
    case 'sam':
      return new AndFilter({ filters: [user, eq('sAMAccountName', name.value)] });
  }
}

function toAccountEntry(entry: Entry): AccountEntry {
  const sam = str(entry, 'sAMAccountName');
  if (!sam) throw new TargetUnchangedError(`the directory entry ${entry.dn} has no sAMAccountName; it is not an account this adapter can change`);
  return {
    dn: entry.dn,
    sAMAccountName: sam,
    userPrincipalName: str(entry, 'userPrincipalName'),
    displayName: str(entry, 'displayName'),
    pwdLastSet: fileTimeToDate(str(entry, 'pwdLastSet')),
    badPwdCount: num(entry, 'badPwdCount'),
    badPasswordTime: fileTimeToDate(str(entry, 'badPasswordTime')),
    lockoutTime: fileTimeToDate(str(entry, 'lockoutTime')),
    resultantPso: str(entry, 'msDS-ResultantPSO'),
  };
}

/**
 * Finds exactly one account by DN, UPN or sAMAccountName under `baseDn`. None, or more than one,
 * is refused: the name must identify one entry, and that entry is the one changed.
 */
export async function findAccount(client: Client, baseDn: string, username: string, domain: string): Promise<AccountEntry> {
  const name = accountName(username);
  let entries: Entry[];
  try {
    ({ searchEntries: entries } = await client.search(baseDn, {
      scope: 'sub',
      filter: accountFilter(name, domain),
      attributes: [...ACCOUNT_ATTRIBUTES],
      sizeLimit: 2,
    }));
  } catch (e) {
    throw classifyAdError(e, { operation: `looking up the account ${JSON.stringify(username)}`, sent: false });
  }
  if (entries.length === 0) {
    throw new InvalidConfigurationError('account.username', `no user account ${JSON.stringify(username)} (as a ${name.kind === 'dn' ? 'DN' : name.kind === 'upn' ? 'user principal name' : 'sAMAccountName'}) under ${baseDn}; nothing was changed`);
  }
  if (entries.length > 1) {
    throw new InvalidConfigurationError('account.username', `${JSON.stringify(username)} names more than one account under ${baseDn}; give its DN instead; nothing was changed`);
  }
  return toAccountEntry(entries[0]!);
}
