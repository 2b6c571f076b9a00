import { describe, expect, it } from 'vitest';
import { ciscoAccountKind, ciscoLinesOf, ciscoLoginUsername } from '../../../../layers/resources/cisco/accounts.js';
import type { CiscoResource } from '../../../../layers/resources/cisco/schema.js';
import { parseResource } from '../../../../layers/resources/registry.js';
import { configurationError, refusedField } from '../helpers.js';

const ios = { id: 'rtr1', type: 'cisco-ios', host: 'rtr1.example.com', loginAccount: 'rtr1/admin' };
const parse = (input: Record<string, unknown>) => parseResource(input) as CiscoResource;

describe('cisco account kinds', () => {
  it('IOS: the enable secret, line passwords, and every other account a local user', () => {
    const r = parse({
      ...ios,
      enableSecretAccount: 'rtr1/enable',
      linePasswords: [
        { line: 'vty 0 4', account: 'rtr1/vty' },
        { line: 'vty 5 15', account: 'rtr1/vty' },
        { line: 'con 0', account: 'rtr1/console' },
      ],
    });
    expect(ciscoAccountKind(r, 'rtr1/enable')).toBe('enable-secret');
    expect(ciscoAccountKind(r, 'rtr1/vty')).toBe('line-password');
    expect(ciscoAccountKind(r, 'rtr1/console')).toBe('line-password');
    expect(ciscoAccountKind(r, 'rtr1/admin')).toBe('local-user');
    expect(ciscoAccountKind(r, 'rtr1/netops')).toBe('local-user');
    expect(ciscoLinesOf(r, 'rtr1/vty')).toEqual(['vty 0 4', 'vty 5 15']);
    expect(ciscoLinesOf(r, 'rtr1/admin')).toEqual([]);
    expect(ciscoLoginUsername(r, 'admin')).toBe('admin');
  });

  it('IOS: the enable password where no enable secret is set', () => {
    const r = parse({ ...ios, enablePasswordAccount: 'rtr1/enable' });
    expect(ciscoAccountKind(r, 'rtr1/enable')).toBe('enable-password');
  });

  it('CatOS and PIX: the login password and the enable password', () => {
    for (const type of ['cisco-catos', 'cisco-pix']) {
      const r = parse({ ...ios, type, loginPasswordAccount: 'rtr1/login', enablePasswordAccount: 'rtr1/enable' });
      expect(ciscoAccountKind(r, 'rtr1/login')).toBe('login-password');
      expect(ciscoAccountKind(r, 'rtr1/enable')).toBe('enable-password');
      expect(ciscoAccountKind(r, 'rtr1/admin')).toBe('local-user');
    }
  });

  it('a login that is the line password alone types no user name over Telnet', () => {
    const r = parse({ ...ios, protocol: 'telnet', usernameRequired: false, linePasswords: [{ line: 'vty 0 15', account: 'rtr1/admin' }] });
    expect(ciscoLoginUsername(r, 'admin')).toBeUndefined();
  });

  it('PIX over SSH with the passwd login password logs in as "pix", as Cisco documents', () => {
    const r = parse({ ...ios, type: 'cisco-pix', usernameRequired: false, loginPasswordAccount: 'rtr1/admin' });
    expect(r.protocol).toBe('ssh');
    expect(ciscoLoginUsername(r, 'admin')).toBe('pix');
  });
});

describe('cisco account combinations refused when saved', () => {
  it('IOS: an enable secret with an enable password, citing that the secret takes precedence', () => {
    const e = configurationError(() => parse({ ...ios, enableSecretAccount: 'rtr1/s', enablePasswordAccount: 'rtr1/p' }));
    expect(e.field).toBe('enablePasswordAccount');
    expect(e.message).toMatch(/enable secret when both are set.*unused/);
  });

  it.each([
    [{ enableSecretAccount: 'rtr1/x', linePasswords: [{ line: 'vty 0 4', account: 'rtr1/x' }] }, 'linePasswords.0.account', 'enableSecretAccount'],
    [{ type: 'cisco-pix', enablePasswordAccount: 'rtr1/x', loginPasswordAccount: 'rtr1/x' }, 'loginPasswordAccount', 'enablePasswordAccount'],
    [{ type: 'cisco-catos', enablePasswordAccount: 'rtr1/x', loginPasswordAccount: 'rtr1/x' }, 'loginPasswordAccount', 'enablePasswordAccount'],
  ])('one account in two roles, naming both fields (%#)', (extra, field, other) => {
    const e = configurationError(() => parse({ ...ios, ...extra }));
    expect(e.field).toBe(field);
    expect(e.message).toContain(other);
  });

  it('the login account as an enable password', () => {
    expect(refusedField({ ...ios, enableSecretAccount: 'rtr1/admin' })).toBe('loginAccount');
    expect(refusedField({ ...ios, type: 'cisco-pix', enablePasswordAccount: 'rtr1/admin' })).toBe('loginAccount');
  });

  it('line passwords off IOS, a login password on IOS', () => {
    expect(refusedField({ ...ios, type: 'cisco-pix', linePasswords: [{ line: 'vty 0 4', account: 'rtr1/v' }] })).toBe('linePasswords');
    expect(refusedField({ ...ios, type: 'cisco-catos', linePasswords: [{ line: 'con 0', account: 'rtr1/v' }] })).toBe('linePasswords');
    expect(refusedField({ ...ios, loginPasswordAccount: 'rtr1/l' })).toBe('loginPasswordAccount');
  });

  it.each(['vty', 'vty 0 x', 'vty 15 0', 'tty 1', 'con 1', 'vty 0 4; reload', 'VTY 0 4', 'vty 1000 1001'])('the line %j', (line) => {
    expect(refusedField({ ...ios, linePasswords: [{ line, account: 'rtr1/v' }] })).toBe('linePasswords.0.line');
  });

  it.each(['vty 0 15', 'vty 4', 'con 0', 'console 0', 'aux 0'])('takes the line %j', (line) => {
    expect(parse({ ...ios, linePasswords: [{ line, account: 'rtr1/v' }] }).linePasswords[0]!.line).toBe(line);
  });

  it('two entries for one line', () => {
    const e = configurationError(() => parse({ ...ios, linePasswords: [{ line: 'vty 0 4', account: 'rtr1/a' }, { line: 'vty 3 15', account: 'rtr1/b' }] }));
    expect(e.field).toBe('linePasswords.1.line');
    expect(e.message).toContain('linePasswords.0.line');
    expect(refusedField({ ...ios, linePasswords: [{ line: 'con 0', account: 'rtr1/a' }, { line: 'console 0', account: 'rtr1/b' }] })).toBe('linePasswords.1.line');
  });

  it('usernameRequired false with a login that is not the line or login password', () => {
    expect(refusedField({ ...ios, protocol: 'telnet', usernameRequired: false })).toBe('loginAccount');
    // The console line does not take Telnet or SSH sessions.
    expect(refusedField({ ...ios, protocol: 'telnet', usernameRequired: false, linePasswords: [{ line: 'con 0', account: 'rtr1/admin' }] })).toBe('loginAccount');
    expect(refusedField({ ...ios, type: 'cisco-pix', protocol: 'telnet', usernameRequired: false })).toBe('loginAccount');
    expect(refusedField({ ...ios, type: 'cisco-catos', protocol: 'telnet', usernameRequired: false, loginPasswordAccount: 'rtr1/other' })).toBe('loginAccount');
  });

  it('usernameRequired true with a login that is the line or login password', () => {
    expect(refusedField({ ...ios, linePasswords: [{ line: 'vty 0 15', account: 'rtr1/admin' }] })).toBe('loginAccount');
    expect(refusedField({ ...ios, type: 'cisco-pix', loginPasswordAccount: 'rtr1/admin' })).toBe('loginAccount');
  });

  it('SSH without a user name on IOS and CatOS, where no documented SSH login takes none', () => {
    const e = configurationError(() => parse({ ...ios, usernameRequired: false, linePasswords: [{ line: 'vty 0 15', account: 'rtr1/admin' }] }));
    expect(e.field).toBe('usernameRequired');
    expect(e.message).toMatch(/login local/);
    expect(refusedField({ ...ios, type: 'cisco-catos', usernameRequired: false, loginPasswordAccount: 'rtr1/admin' })).toBe('usernameRequired');
  });
});
