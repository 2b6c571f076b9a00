import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../../layers/engine/errors.js';
import { assertPolicyPossible, generatePassword } from '../../../layers/engine/policy.js';
import { RESOURCE_TYPES, type ResourceType } from '../../../layers/resources/common.js';
import { definitionOf, isResourceType, parseAccount, parseResource, policyOf, RESOURCE_TYPE_DEFINITIONS } from '../../../layers/resources/registry.js';
import { configurationError, HOSTILE_USERNAMES, refusedField, takesUsername } from './helpers.js';

const base = { id: 'r1', host: 'target.example.com' };
const device = { ...base, loginAccount: 'r1/admin' };

/**
 * The smallest configuration of every type, and the defaults it gets. The README's
 * support matrix quotes these; a change here is a change to the documented behaviour.
 */
const MINIMAL: Record<ResourceType, { input: Record<string, unknown>; defaults: Record<string, unknown>; username: string }> = {
  windows: { input: { ...base, adminAccount: 'r1/Administrator' }, defaults: { transport: 'ssh', port: 22 }, username: 'Administrator' },
  'windows-domain': { input: { ...base, domain: 'corp.example.com' }, defaults: { mode: 'ldaps', port: 636, plainAcknowledged: false }, username: 'jdoe' },
  linux: { input: { ...base, login: { account: 'r1/root' } }, defaults: { protocol: 'ssh', port: 22, auth: 'password', privilege: { mode: 'none' } }, username: 'root' },
  aix: { input: { ...base, login: { account: 'r1/root' } }, defaults: { protocol: 'ssh', port: 22 }, username: 'root' },
  'hp-ux': { input: { ...base, login: { account: 'r1/root' } }, defaults: { protocol: 'ssh', port: 22 }, username: 'root' },
  solaris: { input: { ...base, login: { account: 'r1/root' } }, defaults: { protocol: 'ssh', port: 22 }, username: 'root' },
  macos: { input: { ...base, login: { account: 'r1/admin' } }, defaults: { protocol: 'ssh', port: 22 }, username: 'admin' },
  esxi: { input: { ...base, login: { account: 'r1/root' } }, defaults: { protocol: 'ssh', port: 22 }, username: 'root' },
  as400: { input: base, defaults: { protocol: 'ssh', port: 22 }, username: 'QSECOFR' },
  alom: { input: base, defaults: { protocol: 'ssh', port: 22 }, username: 'admin' },
  ilom: { input: base, defaults: { protocol: 'ssh', port: 22 }, username: 'root' },
  xscf: { input: base, defaults: { protocol: 'ssh', port: 22 }, username: 'eis-installer' },
  mysql: { input: base, defaults: { port: 3306, ssl: false }, username: 'app@%' },
  postgresql: { input: base, defaults: { port: 5432, ssl: false, database: 'postgres' }, username: 'app' },
  weblogic: {
    input: { ...base, adminAccount: 'r1/weblogic' },
    defaults: { port: 7002, ssl: true, realm: 'myrealm', authenticationProvider: 'DefaultAuthenticator' },
    username: 'weblogic',
  },
  mssql: { input: base, defaults: { port: 1433, ssl: true, authentication: { mode: 'sql' } }, username: 'sa' },
  oracle: { input: base, defaults: { port: 1521, serviceName: 'ORCL', ssl: false, encrypted: false }, username: 'SYSTEM' },
  'sybase-ase': { input: base, defaults: { port: 2748, ssl: true }, username: 'sa' },
  ldap: { input: { ...base, serverType: 'openldap' }, defaults: { port: 389, ssl: false, starttls: false }, username: 'cn=admin,dc=example,dc=com' },
  'hp-procurve': {
    input: { ...base, managerAccount: 'r1/manager' },
    defaults: { protocol: 'ssh', port: 22, usernameRequired: true, copyToStartup: true, prompts: { manager: '# ?$', configuration: '\\(config\\)# ?$' } },
    username: 'manager',
  },
  'hp-ilo': { input: { ...base, adminAccount: 'r1/Administrator' }, defaults: { protocol: 'ssh', port: 22, prompt: '</>hpiLO-> ?$' }, username: 'Administrator' },
  'cisco-ios': {
    input: device,
    defaults: { protocol: 'ssh', port: 22, usernameRequired: true, copyToStartup: true, prompts: { userMode: '> ?$', enable: '# ?$', configuration: '\\(config[^)]*\\)# ?$' } },
    username: 'admin',
  },
  'cisco-catos': { input: device, defaults: { protocol: 'ssh', port: 22, copyToStartup: false, prompts: { userMode: '> ?$', enable: '\\(enable\\) ?$' } }, username: 'admin' },
  'cisco-pix': { input: device, defaults: { protocol: 'ssh', port: 22, copyToStartup: true }, username: 'admin' },
  'juniper-netscreen': {
    input: { ...base, adminAccount: 'r1/netscreen' },
    defaults: { protocol: 'ssh', port: 22, usernameRequired: true, adminPrompt: '-> ?$', copyToStartup: true },
    username: 'netscreen',
  },
  'aws-iam': { input: { id: 'r1', credentialsSecretId: 'rpr/aws/admin' }, defaults: { host: 'iam.amazonaws.com' }, username: 'alice' },
  'google-workspace': {
    input: { id: 'r1', adminEmail: 'admin@example.com', serviceAccountKeySecretId: 'rpr/google/key' },
    defaults: { host: 'admin.googleapis.com' },
    username: 'alice@example.com',
  },
  'entra-id': {
    input: { id: 'r1', tenantId: 'contoso.onmicrosoft.com', clientId: '11111111-2222-3333-4444-555555555555', clientSecretSecretId: 'rpr/entra/app' },
    defaults: { host: 'graph.microsoft.com' },
    username: 'alice@contoso.onmicrosoft.com',
  },
  rackspace: {
    input: { id: 'r1', adminUsername: 'admin', adminSecretId: 'rpr/rax/admin-api-key' },
    defaults: { identityEndpoint: 'us', identityUrl: 'https://identity.api.rackspacecloud.com/v2.0', host: 'identity.api.rackspacecloud.com', adminCredential: 'apiKey' },
    username: 'alice',
  },
  salesforce: {
    input: { id: 'r1', clientId: '3MVG9.abc_DEF', clientSecretSecretId: 'rpr/sf/app', instance: 'https://acme.my.salesforce.com' },
    defaults: { instanceUrl: 'https://acme.my.salesforce.com', host: 'acme.my.salesforce.com', apiVersion: '62.0' },
    username: 'alice@example.com',
  },
};

/** Types whose user names travel as bound parameters or server-side quoted identifiers, where any printable name is safe. */
const BOUND_NAMES: ResourceType[] = ['mysql', 'postgresql', 'mssql', 'weblogic'];

const CLOUD: ResourceType[] = ['aws-iam', 'google-workspace', 'entra-id', 'rackspace', 'salesforce'];

describe('the registry', () => {
  it('defines every resource type under its own name', () => {
    expect(Object.keys(RESOURCE_TYPE_DEFINITIONS).sort()).toEqual([...RESOURCE_TYPES].sort());
    for (const [key, def] of Object.entries(RESOURCE_TYPE_DEFINITIONS)) expect(def.type).toBe(key);
  });

  it.each(RESOURCE_TYPES)('%s: a minimal configuration parses and gets its documented defaults', (type) => {
    const { input, defaults } = MINIMAL[type];
    const resource = parseResource({ ...input, type });
    expect(resource).toMatchObject({ ...input, type, site: 'cloud', tags: [], ...defaults });
  });

  it.each(RESOURCE_TYPES)('%s: the type default port is the port a minimal configuration gets', (type) => {
    const resource = parseResource({ ...MINIMAL[type].input, type }) as { port?: number };
    expect(resource.port ?? 443).toBe(definitionOf(type).defaultPort);
  });

  it.each(RESOURCE_TYPES)('%s: the default policy can be met, and generates at least 24 characters unless the target takes fewer', (type) => {
    const policy = policyOf({ type });
    expect(() => assertPolicyPossible(policy)).not.toThrow();
    expect(policy.length).toBe(Math.min(Math.max(24, policy.length), policy.maxLength));
    expect(policy.length).toBeGreaterThanOrEqual(Math.min(24, policy.maxLength));
    const password = generatePassword(policy).reveal();
    expect(password).toHaveLength(policy.length);
  });

  it.each(RESOURCE_TYPES)('%s: titles, texts and the on-premises flag are set', (type) => {
    const def = definitionOf(type);
    expect(def.title.length).toBeGreaterThan(0);
    expect(def.changedBy).not.toMatch(/\n/);
    expect(def.verifiedBy).not.toMatch(/\n/);
    expect(def.onPremises).toBe(!CLOUD.includes(type));
  });

  it.each(RESOURCE_TYPES)('%s: the ports a configuration needs without a custom port are the ports its function opens', (type) => {
    const def = definitionOf(type);
    const open = { tcp: new Set(def.defaultPorts.tcp), udp: new Set(def.defaultPorts.udp ?? []) };
    const needs = def.ports(parseResource({ ...MINIMAL[type].input, type }) as never);
    expect(needs.tcp.every((p) => open.tcp.has(p)) && (needs.udp ?? []).every((p) => open.udp.has(p)), JSON.stringify(needs)).toBe(true);
    expect(needs.tcp.length + (needs.udp ?? []).length).toBeGreaterThan(0);
  });

  it('ports follow the configuration: Telnet, SSL listeners, a named SQL Server instance over UDP 1434', () => {
    const needs = (input: Record<string, unknown>) => definitionOf(input.type).ports(parseResource(input) as never);
    const open = (type: ResourceType) => definitionOf(type).defaultPorts;
    expect(needs({ ...MINIMAL.linux.input, type: 'linux', protocol: 'telnet' })).toEqual({ tcp: [23] });
    expect(needs({ ...MINIMAL.weblogic.input, type: 'weblogic', ssl: false })).toEqual({ tcp: [7001] });
    expect(needs({ ...MINIMAL['sybase-ase'].input, type: 'sybase-ase', ssl: true })).toEqual({ tcp: [2748] });
    expect(needs({ ...MINIMAL.ldap.input, type: 'ldap', ssl: true })).toEqual({ tcp: [636] });
    expect(needs({ ...MINIMAL.mssql.input, type: 'mssql', instanceName: 'SQLEXPRESS' })).toEqual({ tcp: [], udp: [1434] });
    expect(needs({ ...MINIMAL.postgresql.input, type: 'postgresql', port: 6432 })).toEqual({ tcp: [6432] });
    for (const type of ['linux', 'weblogic', 'sybase-ase', 'ldap'] as const) expect(open(type).tcp.length).toBe(2);
    expect(open('mssql').udp).toEqual([1434]);
  });

  it('every implemented type names its function family, its adapter loader and what the suite checks it against', () => {
    for (const def of Object.values(RESOURCE_TYPE_DEFINITIONS)) {
      expect(def.implementation.family, def.type).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(typeof def.implementation.adapter).toBe('function');
      expect(def.implementation.testedAgainst.what.length, def.type).toBeGreaterThan(0);
    }
  });

  it.each(RESOURCE_TYPES.filter((t) => !BOUND_NAMES.includes(t)))('%s: takes its ordinary user name and refuses hostile ones', (type) => {
    expect(takesUsername(type, MINIMAL[type].username)).toBe(true);
    for (const name of HOSTILE_USERNAMES) expect(takesUsername(type, name), JSON.stringify(name)).toBe(false);
  });

  it.each(BOUND_NAMES)('%s: takes any printable user name (it is bound or quoted, never spliced) but no control character', (type) => {
    expect(takesUsername(type, MINIMAL[type].username)).toBe(true);
    expect(takesUsername(type, 'root; rm -rf /')).toBe(true);
    for (const name of ['a\nb', 'a\rb', 'a\u0000b', 'a\u001bb', 'a\u0085b']) expect(takesUsername(type, name), JSON.stringify(name)).toBe(false);
  });

  it('knows its types and nothing else', () => {
    expect(isResourceType('cisco-ios')).toBe(true);
    expect(isResourceType('cisco')).toBe(false);
    expect(isResourceType(undefined)).toBe(false);
  });
});

describe('parseResource', () => {
  it('refuses an unknown type, naming the field "type"', () => {
    const error = configurationError(() => parseResource({ ...base, type: 'vax' }));
    expect(error.field).toBe('type');
    expect(error.message).toContain('unknown resource type "vax"');
  });

  it('refuses a missing type, saying it is required and listing the types', () => {
    const error = configurationError(() => parseResource(base));
    expect(error.field).toBe('type');
    expect(error.message).toMatch(/is required; one of: windows, windows-domain/);
  });

  it('refuses what is not an object', () => {
    expect(configurationError(() => parseResource('linux')).field).toBe('resource');
    expect(configurationError(() => parseResource([])).field).toBe('resource');
    expect(configurationError(() => parseResource(null, 'rows.3')).field).toBe('rows.3');
  });

  it('names an unknown extra field itself, at any depth', () => {
    expect(refusedField({ ...MINIMAL.oracle.input, type: 'oracle', servicename: 'X' })).toBe('servicename');
    expect(refusedField({ ...device, type: 'cisco-ios', prompts: { enabled: '# ?$' } })).toBe('prompts.enabled');
    expect(refusedField({ ...MINIMAL.linux.input, type: 'linux', policy: { lenght: 30 } })).toBe('policy.lenght');
  });

  it('prefixes every field with the caller\'s path', () => {
    expect(configurationError(() => parseResource({ ...base, type: 'oracle', port: 0 }, 'resources.2')).field).toBe('resources.2.port');
    expect(configurationError(() => parseResource({ ...base }, 'resources.2')).field).toBe('resources.2.type');
  });

  it('keeps only the policy overrides written, so the type keeps its own limits', () => {
    const resource = parseResource({ ...base, type: 'oracle', policy: { minSymbols: 2 } });
    expect(resource.policy).toEqual({ minSymbols: 2 });
    expect(policyOf(resource)).toMatchObject({ length: 30, maxLength: 30, maxBytes: 30, minSymbols: 2, forbidden: '"' });
  });

  it('has no policy when none is written', () => {
    expect('policy' in parseResource({ ...base, type: 'oracle' })).toBe(false);
  });

  it('refuses a policy override that loosens the type, naming the field', () => {
    expect(refusedField({ ...base, type: 'oracle', policy: { maxLength: 31 } })).toBe('policy.maxLength');
    expect(refusedField({ ...base, type: 'oracle', policy: { length: 31 } })).toBe('policy.length');
    expect(refusedField({ ...base, type: 'google-workspace', id: 'g', adminEmail: 'a@example.com', serviceAccountKeySecretId: 's', policy: { minLength: 4 } })).toBe(
      'policy.minLength',
    );
  });

  it('refuses a policy the generator cannot meet', () => {
    expect(refusedField({ ...base, type: 'oracle', policy: { minDigits: 20, minUpper: 20 } })).toBe('policy.length');
  });

  it('throws InvalidConfigurationError, never a ZodError', () => {
    expect(() => parseResource({ ...base, type: 'mysql', port: 'x' })).toThrow(InvalidConfigurationError);
  });
});

describe('parseAccount', () => {
  it('gives an account its id from its resource and user name', () => {
    expect(parseAccount({ resourceId: 'r1', username: 'root', secretId: 'rpr/r1/root' }, 'linux')).toMatchObject({ id: 'r1/root', tags: [] });
  });

  it('names the prefixed username field when the type refuses the name', () => {
    expect(configurationError(() => parseAccount({ resourceId: 'r1', username: 'a b', secretId: 's' }, 'linux', 'accounts.4')).field).toBe('accounts.4.username');
  });

  it('refuses an account of an unknown type', () => {
    expect(configurationError(() => parseAccount({ resourceId: 'r1', username: 'root', secretId: 's' }, 'vax')).field).toBe('type');
  });
});
