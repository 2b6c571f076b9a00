import { Attribute, Change } from 'ldapts';
import { afterAll, afterEach, expect, it } from 'vitest';
import type { TargetAdapter } from '../../../layers/engine/adapter.js';
import { AuthenticationError, InvalidConfigurationError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createLdapAdapter } from '../../../layers/resources/ldap/adapter.js';
import { uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { findLeaks } from '../../support/leaks.js';
import {
  PRINTABLE_ASCII,
  People,
  account,
  adminCredential,
  asRoot,
  binds,
  caOf,
  context,
  credential,
  resource,
  setUserPasswordAsGiven,
  storedUserPasswords,
} from './support.js';

/** A password unique to this run, so history or caching can never make a test pass by accident. */
function pw(label: string): string {
  return `${label}-${uniqueName('p')}`;
}

describeServer('ldap', 'LDAP adapter on OpenLDAP (slapd with ppolicy)', (info) => {
  const people = new People(info);
  const adapters: TargetAdapter[] = [];
  /** Every password used, and every error and result seen, for the leak search at the end. */
  const passwords = new Set<string>([info.adminPassword]);
  const seen: string[] = [];

  function track(...values: string[]): void {
    for (const v of values) passwords.add(v);
  }
  function adapterWith(over: Partial<Record<string, unknown>> = {}, admin = true, timeoutMs = 5_000): TargetAdapter {
    const a = createLdapAdapter(context(resource(info, over), admin ? adminCredential(info) : undefined, [], timeoutMs));
    adapters.push(a);
    return a;
  }
  async function failure(p: Promise<unknown>): Promise<Error> {
    const e = await p.then(
      () => new Error('expected a failure'),
      (err: unknown) => err as Error,
    );
    seen.push(`${e.name}: ${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e)}`);
    return e;
  }

  afterEach(async () => {
    for (const a of adapters.splice(0)) await a.close();
  });
  afterAll(async () => {
    await people.cleanup();
  });

  it('admin reset over LDAPS: the Password Modify operation sets a hashed password that binds; the old one is refused', async () => {
    const [oldA, oldB] = [pw('Old-a'), pw('Old-b')];
    const [newA, newB] = [pw('New-a'), pw('New-b')];
    track(oldA, oldB, newA, newB);
    const a = await people.add(oldA);
    const b = await people.add(oldB);
    const adapter = adapterWith();

    const resultA = await adapter.change({ account: account(a), newPassword: new Secret(newA) });
    const resultB = await adapter.change({ account: account(b), newPassword: new Secret(newB) });
    seen.push(JSON.stringify([resultA, resultB]));

    expect(resultA.method).toBe('admin reset: Password Modify extended operation');
    expect(await binds(info, a, newA)).toBe(true);
    expect(await binds(info, a, oldA)).toBe(false);
    expect(await binds(info, b, newB)).toBe(true);
    expect(await binds(info, b, oldB)).toBe(false);
    expect(await adapter.verify({ account: account(a), password: new Secret(newA) })).toEqual({ valid: true });
    expect(await adapter.verify({ account: account(a), password: new Secret(oldA) })).toMatchObject({ valid: false });
    const stored = await storedUserPasswords(info, a);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatch(/^\{SSHA\}/);
  });

  it('admin reset over StartTLS on the plain port, and on the suffix without ppolicy (the operation hashes there too)', async () => {
    const old = pw('Old-st');
    const next = pw('New-st');
    track(old, next);
    const dn = await people.add(old, { suffix: 'clear' });
    const adapter = adapterWith({ port: info.port, ssl: false, starttls: true });

    await adapter.change({ account: account(dn), newPassword: new Secret(next) });

    expect(await binds(info, dn, next)).toBe(true);
    expect(await binds(info, dn, old)).toBe(false);
    expect((await storedUserPasswords(info, dn))[0]).toMatch(/^\{SSHA\}/);
  });

  it('self change without an admin: the account binds with its old password and changes its own; a wrong old password changes nothing', async () => {
    const old = pw('Old-self');
    const next = pw('New-self');
    const wrong = pw('Wrong-self');
    track(old, next, wrong);
    const dn = await people.add(old);
    const adapter = adapterWith({}, false);

    const refused = await failure(adapter.change({ account: account(dn), newPassword: new Secret(next), currentPassword: new Secret(wrong) }));
    expect(refused).toBeInstanceOf(AuthenticationError);
    expect(await binds(info, dn, old)).toBe(true);

    const result = await adapter.change({ account: account(dn), newPassword: new Secret(next), currentPassword: new Secret(old) });
    expect(result.method).toBe('self change: Password Modify extended operation');
    expect(await binds(info, dn, next)).toBe(true);
    expect(await binds(info, dn, old)).toBe(false);

    const missing = await failure(adapter.change({ account: account(dn), newPassword: new Secret(pw('x')) }));
    expect(missing).toBeInstanceOf(InvalidConfigurationError);
  });

  it('the admin account resets itself, then keeps resetting others with its new password on the same adapter', async () => {
    const adminOld = pw('Adm-old');
    const adminNew = pw('Adm-new');
    const userOld = pw('Usr-old');
    const userNew = pw('Usr-new');
    track(adminOld, adminNew, userOld, userNew);
    const adminDn = await people.add(adminOld);
    const user = await people.add(userOld);
    const group = `cn=password-admins,ou=groups,${info.baseDn}`;
    await asRoot(info, 'rpr', (c) => c.modify(group, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [adminDn] }) })));
    try {
      const adminCred = credential(adminDn, adminOld, 'ldap-test/own-admin');
      const adapter = createLdapAdapter(context(resource(info), adminCred));
      adapters.push(adapter);

      const self = await adapter.change({ account: account(adminDn, 'ldap-test/own-admin'), newPassword: new Secret(adminNew), currentPassword: new Secret(adminOld) });
      expect(self.method).toBe('self change (admin account): Password Modify extended operation');
      await adapter.close();
      await adapter.change({ account: account(user), newPassword: new Secret(userNew) });

      expect(await binds(info, adminDn, adminNew)).toBe(true);
      expect(await binds(info, adminDn, adminOld)).toBe(false);
      expect(await binds(info, user, userNew)).toBe(true);
    } finally {
      await asRoot(info, 'rpr', (c) => c.modify(group, new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [adminDn] }) })));
    }
  });

  it('clear-text guard on OpenLDAP without hashing: a forced userPassword replace on dc=clear stores a salted hash, never the password', async () => {
    const old = pw('Old-clear');
    const next = pw('New-clear');
    const selfNext = pw('Self-clear');
    track(old, next, selfNext);
    const dn = await people.add(old, { suffix: 'clear' });
    // The server really stores a plain replace as given on this suffix: the guard is needed.
    await setUserPasswordAsGiven(info, 'clear', dn, old);
    expect(await storedUserPasswords(info, dn)).toEqual([old]);

    const result = await adapterWith({ passwordChange: 'replace' }).change({ account: account(dn), newPassword: new Secret(next) });
    expect(result.method).toBe('admin reset: userPassword modify');
    const stored = await storedUserPasswords(info, dn);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatch(/^\{SSHA\}[A-Za-z0-9+/]+=*$/);
    expect(stored[0]).not.toContain(next);
    expect(await binds(info, dn, next)).toBe(true);
    expect(await binds(info, dn, old)).toBe(false);

    // The self change by replace is hashed too.
    await adapterWith({ passwordChange: 'replace' }, false).change({ account: account(dn), newPassword: new Secret(selfNext), currentPassword: new Secret(next) });
    expect((await storedUserPasswords(info, dn))[0]).toMatch(/^\{SSHA\}/);
    expect(await binds(info, dn, selfNext)).toBe(true);
    expect(await binds(info, dn, next)).toBe(false);
  });

  it('clear-text guard where the server hashes by itself (Oracle Internet Directory path): a server holding clear text is refused, nothing changed', async () => {
    const old = pw('Old-oid');
    const next = pw('New-oid');
    track(old, next);
    const dn = await people.add(old, { suffix: 'clear' });
    await setUserPasswordAsGiven(info, 'clear', dn, old);
    const adapter = adapterWith({ serverType: 'oracle-internet-directory', passwordChange: 'replace' });

    const e = await failure(adapter.change({ account: account(dn), newPassword: new Secret(next) }));

    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('passwordChange');
    expect(e.message).toMatch(/clear text/);
    expect(await storedUserPasswords(info, dn)).toEqual([old]);
    expect(await binds(info, dn, next)).toBe(false);
  });

  it('a forced replace on the ppolicy suffix: the server-side hashing and our own agree, the password binds', async () => {
    const old = pw('Old-rep');
    const next = pw('New-rep');
    track(old, next);
    const dn = await people.add(old);
    await adapterWith({ passwordChange: 'replace' }).change({ account: account(dn), newPassword: new Secret(next) });
    expect((await storedUserPasswords(info, dn))[0]).toMatch(/^\{SSHA\}/);
    expect(await binds(info, dn, next)).toBe(true);
    expect(await binds(info, dn, old)).toBe(false);
  });

  it('other server types on this slapd: eDirectory takes the advertised Password Modify operation; the Oracle Internet Directory replace hands the server a value it hashes', async () => {
    const [oldE, newE, oldO, newO] = [pw('Old-ed'), pw('New-ed'), pw('Old-oi'), pw('New-oi')];
    track(oldE, newE, oldO, newO);
    const ed = await people.add(oldE);
    const edir = await adapterWith({ serverType: 'novell-edirectory', port: info.port, ssl: false, starttls: true }).change({ account: account(ed), newPassword: new Secret(newE) });
    expect(edir.method).toBe('admin reset: Password Modify extended operation');
    expect(await binds(info, ed, newE)).toBe(true);

    // The entry's current value is a hash, so the guard lets the replace through; ppolicy hashes it on this suffix.
    const oi = await people.add(oldO);
    const oid = await adapterWith({ serverType: 'oracle-internet-directory', passwordChange: 'replace' }).change({ account: account(oi), newPassword: new Secret(newO) });
    expect(oid.method).toBe('admin reset: userPassword modify');
    expect(await binds(info, oi, newO)).toBe(true);
    expect(await binds(info, oi, oldO)).toBe(false);
    expect((await storedUserPasswords(info, oi))[0]).toMatch(/^\{SSHA\}/);
  });

  it('passwordLastSet: the admin reads pwdChangedTime, which a reset moves to now; undefined where no policy keeps it, or without an admin', async () => {
    const old = pw('Old-time');
    const next = pw('New-time');
    track(old, next);
    const dn = await people.add(old);
    const clearDn = await people.add(old, { suffix: 'clear' });
    const adapter = adapterWith();
    await new Promise((r) => setTimeout(r, 1_100)); // pwdChangedTime has whole seconds
    const before = Date.now();
    // The entry was added by a root DN, which ppolicy does not stamp: no time yet, or an older one.
    const added = await adapter.passwordLastSet!(account(dn));
    expect(added === undefined || added.getTime() < before).toBe(true);

    await adapter.change({ account: account(dn), newPassword: new Secret(next) });

    const changed = await adapter.passwordLastSet!(account(dn));
    expect(changed!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(changed!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await adapter.passwordLastSet!(account(clearDn))).toBeUndefined();
    expect(await adapterWith({}, false).passwordLastSet!(account(dn))).toBeUndefined();
  });

  const GAUNTLET: Record<string, string> = {
    'every printable ASCII character': PRINTABLE_ASCII,
    'spaces at both ends': `  lead and trail ${uniqueName('s')}  `,
    'quotes and backslashes': `"'\\"\\\\'"${uniqueName('q')}\\`,
    'LDAP filter, DN and shell specials': `,+"\\<>;=#*()$\`!|&{}[]%${uniqueName('l')}`,
    Unicode: `Ünïcödé-日本語-Ωμέγα-\u{1F511}-e\u0301-${uniqueName('u')}`,
    'maximum length (128 characters, some outside the BMP)': [...`\u{1F512}Zz9~ "\\${uniqueName('m')}${'m'.repeat(200)}`].slice(0, 128).join(''),
  };

  for (const [label, password] of Object.entries(GAUNTLET)) {
    it(`password gauntlet, ${label}: admin reset, self change and replace each bind with it`, async () => {
      expect([...password].length).toBeLessThanOrEqual(128);
      const start = pw('Start-g');
      track(start, password, `${password}2`);
      const dn = await people.add(start);

      await adapterWith().change({ account: account(dn), newPassword: new Secret(password) });
      expect(await binds(info, dn, password)).toBe(true);
      expect(await binds(info, dn, start)).toBe(false);

      // Self change from the gauntlet password to another (old password sent in the operation).
      const second = [...`${password}2`].slice(-128).join('');
      track(second);
      await adapterWith({}, false).change({ account: account(dn), newPassword: new Secret(second), currentPassword: new Secret(password) });
      expect(await binds(info, dn, second)).toBe(true);
      expect(await binds(info, dn, password)).toBe(false);

      // Replace (our {SSHA}) back to the gauntlet password, on the suffix that stores as given.
      const clearDn = await people.add(start, { suffix: 'clear' });
      await adapterWith({ passwordChange: 'replace' }).change({ account: account(clearDn), newPassword: new Secret(password) });
      expect(await binds(info, clearDn, password)).toBe(true);
      expect(await adapterWith().verify({ account: account(clearDn), password: new Secret(password) })).toEqual({ valid: true });
    });
  }

  it('password gauntlet, refusals: 129 characters, NUL, control characters and empty are refused before anything is sent', async () => {
    const start = pw('Start-r');
    track(start);
    const dn = await people.add(start);
    const proxy = await FaultProxy.start({ host: info.host, port: info.port });
    try {
      const adapter = createLdapAdapter(context(resource(info, { host: proxy.host, port: proxy.port, ssl: false, caCertificate: undefined }), adminCredential(info)));
      adapters.push(adapter);
      for (const bad of ['y'.repeat(129), `nul\0inside-${uniqueName('n')}`, `line\nbreak-${uniqueName('n')}`, `tab\there-${uniqueName('t')}`, '']) {
        const e = await failure(adapter.change({ account: account(dn), newPassword: new Secret(bad) }));
        expect(e).toBeInstanceOf(InvalidConfigurationError);
        expect((e as InvalidConfigurationError).field).toBe('newPassword');
      }
      expect(proxy.connections).toBe(0);
    } finally {
      await proxy.close();
    }
    expect(await binds(info, dn, start)).toBe(true);
  });

  // RDNs with every character RFC 4514 makes special, escaped as it requires.
  const SPECIAL_RDNS: Record<string, { rdn: string; cn: string }> = {
    comma: { rdn: 'cn=Smith\\, John', cn: 'Smith, John' },
    plus: { rdn: 'cn=a\\+b', cn: 'a+b' },
    'double quote': { rdn: 'cn=say \\"hi\\"', cn: 'say "hi"' },
    backslash: { rdn: 'cn=back\\\\slash', cn: 'back\\slash' },
    'angle brackets': { rdn: 'cn=\\<tag\\>', cn: '<tag>' },
    semicolon: { rdn: 'cn=semi\\;colon', cn: 'semi;colon' },
    equals: { rdn: 'cn=a\\=b', cn: 'a=b' },
    'leading hash': { rdn: 'cn=\\#hash', cn: '#hash' },
    'leading and trailing space': { rdn: 'cn=\\ spaced\\ ', cn: ' spaced ' },
    'hex escapes (UTF-8)': { rdn: 'cn=Z\\C3\\B6e', cn: 'Zöe' },
    Unicode: { rdn: 'cn=Ünïcödé 日本', cn: 'Ünïcödé 日本' },
  };

  it('DNs with LDAP-special characters, quoted per RFC 4514 (in multi-valued RDNs), reach exactly their own entry', async () => {
    const victimOld = pw('Victim');
    track(victimOld);
    const victim = await people.add(victimOld);
    // An entry whose RDN value spells the victim's DN: only a DN spliced or re-parsed carelessly could reach the victim.
    const spelled = victim.replace(/([,=+"\\<>;])/g, '\\$1');
    const cases = { ...SPECIAL_RDNS, 'value spelling another DN': { rdn: `cn=${spelled}`, cn: victim } };
    const adapter = adapterWith();
    for (const [label, { rdn, cn }] of Object.entries(cases)) {
      const old = pw('Old-dn');
      const next = pw('New-dn');
      track(old, next);
      const dn = await people.add(old, { rdn: (uid) => `${rdn}+uid=${uid}`, cn });
      await adapter.change({ account: account(dn), newPassword: new Secret(next) });
      expect(await binds(info, dn, next), label).toBe(true);
      expect(await binds(info, dn, old), label).toBe(false);
    }
    expect(await binds(info, victim, victimOld)).toBe(true);
  });

  it('malformed DNs and NUL attempts are refused with a typed error before any connection is made', async () => {
    const proxy = await FaultProxy.start({ host: info.host, port: info.port });
    try {
      const adapter = createLdapAdapter(context(resource(info, { host: proxy.host, port: proxy.port, ssl: false, caCertificate: undefined }), adminCredential(info)));
      adapters.push(adapter);
      const base = `ou=people,${info.baseDn}`;
      const bad = [
        `cn=a"b,${base}`,
        `cn=a<b,${base}`,
        `cn=a>b,${base}`,
        `cn=a;b,${base}`,
        `cn=a=b,${base}`,
        `cn=#notHex,${base}`,
        `cn=nul\0inside,${base}`,
        `cn=nul\\00escaped,${base}`,
        `cn=ctl\\0Aescaped,${base}`,
        'cn=trailing\\',
        `uid=x,${base},`,
        `just a name`,
        '',
      ];
      for (const dn of bad) {
        const e = await failure(adapter.change({ account: account(dn), newPassword: new Secret(pw('Never')) }));
        expect(e, JSON.stringify(dn)).toBeInstanceOf(InvalidConfigurationError);
        expect((e as InvalidConfigurationError).field).toBe('account.username');
        const v = await failure(adapter.verify({ account: account(dn), password: new Secret(pw('Never')) }));
        expect(v).toBeInstanceOf(InvalidConfigurationError);
      }
      expect(proxy.connections).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('an account outside baseDn is refused before anything is sent; one under it (any case) is changed', async () => {
    const old = pw('Old-base');
    const next = pw('New-base');
    track(old, next);
    const inside = await people.add(old);
    const outside = await people.add(old, { suffix: 'clear' });
    const proxy = await FaultProxy.start({ host: info.host, port: info.port });
    try {
      const adapter = createLdapAdapter(
        context(resource(info, { host: proxy.host, port: proxy.port, ssl: false, caCertificate: undefined, baseDn: `OU=People,${info.baseDn.toUpperCase()}` }), adminCredential(info)),
      );
      adapters.push(adapter);
      const e = await failure(adapter.change({ account: account(outside), newPassword: new Secret(next) }));
      expect(e).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe('account.username');
      expect(e.message).toMatch(/baseDn/);
      // A DN whose text only ends with the base's, without being under it, is outside too.
      const lookalike = await failure(adapter.change({ account: account(`uid=x,xOU=People,${info.baseDn.toUpperCase()}`), newPassword: new Secret(next) }));
      expect(lookalike).toBeInstanceOf(InvalidConfigurationError);
      expect(proxy.connections).toBe(0);

      await adapter.change({ account: account(inside), newPassword: new Secret(next) });
      expect(proxy.connections).toBe(1);
    } finally {
      await proxy.close();
    }
    expect(await binds(info, outside, old)).toBe(true);
    expect(await binds(info, inside, next)).toBe(true);
  });

  it('a password-policy refusal (constraintViolation) is TargetUnchangedError with the server\'s reason, and nothing changed', async () => {
    const old = pw('Old-pol');
    track(old);
    const dn = await people.add(old);
    const policy = `cn=strict-${uniqueName('pol')},ou=policies,${info.baseDn}`;
    await asRoot(info, 'rpr', async (c) => {
      await c.add(policy, {
        objectClass: ['pwdPolicy', 'device'],
        pwdAttribute: 'userPassword',
        pwdMinLength: '100',
        pwdCheckQuality: '2',
      });
      await c.modify(dn, new Change({ operation: 'add', modification: new Attribute({ type: 'pwdPolicySubentry', values: [policy] }) }));
    });
    try {
      const short = pw('Short');
      track(short);
      const e = await failure(adapterWith().change({ account: account(dn), newPassword: new Secret(short) }));
      expect(e).toBeInstanceOf(TargetUnchangedError);
      // slapd's own reason reaches the message, with the result code.
      expect(e.message).toMatch(/Password fails quality checking policy.*LDAP result 19/);
      expect(await binds(info, dn, old)).toBe(true);
      expect(await binds(info, dn, short)).toBe(false);
    } finally {
      await asRoot(info, 'rpr', async (c) => {
        await c.modify(dn, new Change({ operation: 'delete', modification: new Attribute({ type: 'pwdPolicySubentry', values: [policy] }) })).catch(() => undefined);
        await c.del(policy).catch(() => undefined);
      });
    }
  });

  it('a wrong admin password is AuthenticationError; an untrusted CA is InvalidConfigurationError; nothing changed', async () => {
    const old = pw('Old-auth');
    const next = pw('New-auth');
    const wrong = pw('Wrong-admin');
    track(old, next, wrong);
    const dn = await people.add(old);

    const badAdmin = createLdapAdapter(context(resource(info), credential(info.adminDn, wrong, 'ldap-test/pwadmin')));
    adapters.push(badAdmin);
    const auth = await failure(badAdmin.change({ account: account(dn), newPassword: new Secret(next) }));
    expect(auth).toBeInstanceOf(AuthenticationError);

    const unrelated = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(
      (await import('node:fs')).readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8'),
    )![0];
    for (const over of [{ caCertificate: unrelated }, { port: info.port, ssl: false, starttls: true, caCertificate: unrelated }]) {
      const e = await failure(adapterWith(over).change({ account: account(dn), newPassword: new Secret(next) }));
      expect(e).toBeInstanceOf(InvalidConfigurationError);
      expect((e as InvalidConfigurationError).field).toBe('caCertificate');
    }
    expect(await binds(info, dn, old)).toBe(true);
    expect(caOf(info)).toMatch(/BEGIN CERTIFICATE/);
  });

  it('(last) no password appears in any error, stack or result of this suite', () => {
    expect(seen.length).toBeGreaterThan(20);
    expect(passwords.size).toBeGreaterThan(30);
    expect(findLeaks(passwords, { 'errors and results': seen.join('\n') })).toEqual([]);
  });
});
