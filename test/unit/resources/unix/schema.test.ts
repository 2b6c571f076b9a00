import { describe, expect, it } from 'vitest';
import { definitionOf, parseResource } from '../../../../layers/resources/registry.js';
import type { UnixResource } from '../../../../layers/resources/unix/schema.js';
import { refusedField, takesUsername } from '../helpers.js';

const linux = { id: 'web1', type: 'linux', host: 'web1.example.com', login: { account: 'web1/ops' } };

describe('unix resources', () => {
  it('take Telnet on port 23 by default', () => {
    expect(parseResource({ ...linux, protocol: 'telnet' })).toMatchObject({ port: 23 });
  });

  it('need the root account for su', () => {
    expect(refusedField({ ...linux, privilege: { mode: 'su' } })).toBe('privilege.rootAccount');
  });

  it('refuse an unknown privilege mode, naming it', () => {
    expect(refusedField({ ...linux, privilege: { mode: 'doas' } })).toBe('privilege.mode');
  });

  it('need a private-key secret for key login', () => {
    expect(refusedField({ ...linux, auth: 'key' })).toBe('privateKeySecret');
  });

  it('refuse key login over Telnet', () => {
    expect(refusedField({ ...linux, auth: 'key', privateKeySecret: 'rpr/web1/key', protocol: 'telnet' })).toBe('auth');
    expect(refusedField({ ...linux, protocol: 'telnet', hostKeySha256: 'n'.repeat(43) })).toBe('hostKeySha256');
  });

  it('refuse a private key with password login', () => {
    expect(refusedField({ ...linux, privateKeySecret: 'rpr/web1/key' })).toBe('privateKeySecret');
  });

  it('need a login account', () => {
    expect(refusedField({ ...linux, login: undefined })).toBe('login.account');
    expect(refusedField({ ...linux, login: { account: 'no slash' } })).toBe('login.account');
  });

  it('name the login (from this resource or a domain) and the root account as references', () => {
    const r = parseResource({ ...linux, privilege: { mode: 'su', rootAccount: 'web1/root' } }) as UnixResource;
    expect(definitionOf('linux').references(r)).toEqual([
      { role: 'login', field: 'login.account', accountId: 'web1/ops', fromResourceTypes: ['windows-domain'] },
      { role: 'root', field: 'privilege.rootAccount', accountId: 'web1/root', fromResourceTypes: [] },
    ]);
  });

  it('refuse a command set that would put the password on the command line', () => {
    expect(refusedField({ ...linux, commandSet: { adminChange: 'echo {password} | passwd --stdin {user}' } })).toBe('commandSet.adminChange');
  });

  it.each(['root', 'svc_app', 'a.b-c', 'MACHINE$'])('take the user name %j', (name) => {
    expect(takesUsername('linux', name)).toBe(true);
  });

  it.each(['a b', '-rf', '../etc', 'a/b', 'x'.repeat(33), ''])('refuse the user name %j', (name) => {
    expect(takesUsername('linux', name)).toBe(false);
  });
});
