import { describe, expect, it } from 'vitest';
import { LEGACY_SSH_ALGORITHMS } from '../../../../layers/engine/ssh-algorithms.js';
import { parseResource, policyOf } from '../../../../layers/resources/registry.js';
import { configurationError, refusedField } from '../helpers.js';
import { CONFIGURATION_MODE, DEVICE_BASES, DEVICE_TYPES, SAVES } from './bases.js';

const commandSet = { change: ['set password {username}', '{currentPassword}', '{password}', '{password}'], refusals: ['^Error: .+'] };

describe.each(DEVICE_TYPES)('%s: fields every device type has', (type) => {
  const base = DEVICE_BASES[type]!;

  it('no legacy SSH algorithm by default; each kind takes names from LEGACY_SSH_ALGORITHMS', () => {
    expect((parseResource(base) as { sshAlgorithms?: unknown }).sshAlgorithms).toBeUndefined();
    const all = { kex: [...LEGACY_SSH_ALGORITHMS.kex], serverHostKey: [...LEGACY_SSH_ALGORITHMS.serverHostKey], cipher: [...LEGACY_SSH_ALGORITHMS.cipher], hmac: [...LEGACY_SSH_ALGORITHMS.hmac] };
    expect(parseResource({ ...base, sshAlgorithms: all })).toMatchObject({ sshAlgorithms: all });
    expect(parseResource({ ...base, sshAlgorithms: { kex: ['diffie-hellman-group14-sha1'] } })).toMatchObject({ sshAlgorithms: { kex: ['diffie-hellman-group14-sha1'] } });
  });

  it.each(['kex', 'serverHostKey', 'cipher', 'hmac'])('refuses an unknown %s name, naming sshAlgorithms.<kind>', (kind) => {
    const e = configurationError(() => parseResource({ ...base, sshAlgorithms: { [kind]: ['curve25519-sha256-not-legacy'] } }));
    expect(e.field).toBe(`sshAlgorithms.${kind}`);
    expect(e.message).toContain('curve25519-sha256-not-legacy');
  });

  it('refuses a name twice, an unknown kind, and legacy algorithms over Telnet', () => {
    expect(refusedField({ ...base, sshAlgorithms: { cipher: ['aes128-cbc', 'aes128-cbc'] } })).toBe('sshAlgorithms.cipher');
    expect(refusedField({ ...base, sshAlgorithms: { compression: ['zlib'] } })).toBe('sshAlgorithms.compression');
    // A cipher name under the wrong kind is unknown there.
    expect(refusedField({ ...base, sshAlgorithms: { kex: ['aes128-cbc'] } })).toBe('sshAlgorithms.kex');
    if (type !== 'as400') expect(refusedField({ ...base, protocol: 'telnet', sshAlgorithms: { kex: ['diffie-hellman-group1-sha1'] } })).toBe('sshAlgorithms');
  });

  it('has the login\'s Username and Password prompts, with defaults, checked like every prompt', () => {
    const r = parseResource(base) as { prompts: { username: string; password: string } };
    expect(new RegExp(r.prompts.password).test(type === 'juniper-netscreen' ? 'password: ' : 'Password: ')).toBe(true);
    expect(r.prompts.username.length).toBeGreaterThan(0);
    expect(parseResource({ ...base, prompts: { username: 'User Name: ?$', password: 'Passcode: ?$' } })).toMatchObject({ prompts: { username: 'User Name: ?$', password: 'Passcode: ?$' } });
    expect(refusedField({ ...base, prompts: { password: '(' } })).toBe('prompts.password');
    expect(refusedField({ ...base, prompts: { username: 'x*' } })).toBe('prompts.username');
  });

  it('takes a custom command set, with defaults', () => {
    const r = parseResource({ ...base, commandSet }) as { commandSet: Record<string, unknown> };
    expect(r.commandSet).toMatchObject({ change: commandSet.change, passwordOnCommandLine: false, configurationMode: false });
    expect((r.commandSet.passwordPrompts as string[]).length).toBe(1);
  });

  it.each([
    [{ change: [] }, 'commandSet.change'],
    [{ change: ['set password {user}', '{password}'] }, 'commandSet.change.0'],
    [{ change: ['set password {username}'] }, 'commandSet.change'],
    [{ change: ['set password {username} {password}'] }, 'commandSet.change.0'],
    [{ change: ['set password\nreload', '{password}'] }, 'commandSet.change.0'],
    [{ refusals: [] }, 'commandSet.refusals'],
    [{ refusals: ['('] }, 'commandSet.refusals.0'],
    [{ refusals: ['x?'] }, 'commandSet.refusals.0'],
    [{ success: ['.*'] }, 'commandSet.success.0'],
    [{ passwordPrompts: ['[bad'] }, 'commandSet.passwordPrompts.0'],
    [{ save: 'write {password}' }, 'commandSet.save'],
    [{ shell: 'sh' }, 'commandSet.shell'],
  ])('refuses the command set %j, naming the field', (change, field) => {
    expect(refusedField({ ...base, commandSet: { ...commandSet, ...change } })).toBe(field);
  });

  it('takes the password on the command line only where the set says the vendor syntax requires it', () => {
    const onLine = { ...commandSet, change: ['username {username} secret {password}'], passwordOnCommandLine: true };
    expect(parseResource({ ...base, commandSet: onLine })).toMatchObject({ commandSet: { passwordOnCommandLine: true } });
  });

  it(SAVES.includes(type) ? 'takes a save command' : 'refuses a save command: the type has no save step', () => {
    const input = { ...base, commandSet: { ...commandSet, save: 'write memory' } };
    if (SAVES.includes(type)) expect(parseResource(input)).toMatchObject({ commandSet: { save: 'write memory' } });
    else expect(refusedField(input)).toBe('commandSet.save');
  });

  it(CONFIGURATION_MODE.includes(type) ? 'takes a command set run in configuration mode' : 'refuses configuration mode: the type has none', () => {
    const input = { ...base, commandSet: { ...commandSet, configurationMode: true } };
    if (CONFIGURATION_MODE.includes(type)) expect(parseResource(input)).toMatchObject({ commandSet: { configurationMode: true } });
    else expect(refusedField(input)).toBe('commandSet.configurationMode');
  });

  it('refuses, when saved, a policy that loosens the type\'s limits, and keeps its forbidden characters', () => {
    const typePolicy = policyOf({ type });
    expect(refusedField({ ...base, policy: { maxLength: typePolicy.maxLength + 1 } })).toBe('policy.maxLength');
    const r = parseResource({ ...base, policy: { forbidden: '', forbiddenFirst: '' } });
    expect(policyOf(r).forbidden).toBe(typePolicy.forbidden);
    expect(policyOf(r).forbiddenFirst).toBe(typePolicy.forbiddenFirst);
  });

  it.skipIf(type === 'as400')('refuses a pinned host key over Telnet', () => {
    expect(refusedField({ ...base, protocol: 'telnet', hostKeySha256: 'A'.repeat(43) })).toBe('hostKeySha256');
  });
});
