import { describe, expect, it } from 'vitest';
import { ciscoPix, type CiscoPix } from '../../simulators/device/cisco-pix.js';
import { pixHash } from '../../simulators/device/cisco-hashes.js';
import { MemoryTerminal, runSession } from '../../simulators/device/memory-terminal.js';

const HELLO = "Type help or '?' for a list of available commands.\n";

/** Logs in over Telnet with the `passwd` password and types `lines`. */
async function run(dev: CiscoPix, lines: readonly string[], term = new MemoryTerminal('telnet'), login: { username?: string; password: string } = { password: 'Tel-pass1' }) {
  const r = await runSession(dev, login, lines, term);
  return { out: r.output, term: r.term };
}

function device(): CiscoPix {
  return ciscoPix({ passwd: 'Tel-pass1', enablePassword: 'En-pass1', users: [{ name: 'admin', password: 'Adm-pass1', privilege: 15 }] });
}

const CONF = ['enable', 'En-pass1', 'configure terminal'];

describe('PIX password encoding', () => {
  it('encodes the documented defaults as the reference prints them', () => {
    expect(pixHash('cisco')).toBe('2KFQnbNIdI.2KYOU');
    expect(pixHash('')).toBe('8Ry2YjIyt7RRXU24');
    const factory = ciscoPix().running();
    expect(factory).toContain('passwd 2KFQnbNIdI.2KYOU encrypted\n');
    expect(factory).toContain('enable password 8Ry2YjIyt7RRXU24 encrypted\n');
    expect(factory).toContain('hostname pixfirewall\n');
  });
});

describe('PIX login', () => {
  it('takes the passwd password alone over Telnet, and the user "pix" with it over SSH', () => {
    const dev = device();
    expect(dev.login.usernameRequired()).toBe(false);
    expect(dev.login.passwordPrompt).toBe('PIX passwd: ');
    expect(dev.login.authenticate(undefined, 'Tel-pass1')).toBeTruthy();
    expect(dev.login.authenticate(undefined, 'En-pass1')).toBeUndefined();
    expect(dev.login.authenticate('pix', 'Tel-pass1')).toBeTruthy();
    expect(dev.login.authenticate('admin', 'Tel-pass1')).toBeUndefined();
    expect(dev.login.authenticate('admin', 'Adm-pass1')).toBeUndefined();
  });

  it('takes local users over SSH with aaa authentication ssh console LOCAL', async () => {
    const dev = device();
    await run(dev, [...CONF, 'aaa authentication ssh console LOCAL']);
    expect(dev.login.authenticate('admin', 'Adm-pass1')).toBeTruthy();
    expect(dev.login.authenticate('pix', 'Tel-pass1')).toBeUndefined();
    expect(dev.login.authenticate(undefined, 'Tel-pass1')).toBeTruthy();
    await run(dev, [...CONF, 'no aaa authentication ssh console LOCAL']);
    expect(dev.login.authenticate('admin', 'Adm-pass1')).toBeUndefined();
  });

  it('asks Telnet logins for a user name with aaa authentication telnet console LOCAL', async () => {
    const dev = device();
    await run(dev, [...CONF, 'aaa authentication telnet console LOCAL']);
    expect(dev.login.usernameRequired()).toBe(true);
    expect(dev.login.passwordPrompt).toBe('Password: ');
    expect(dev.login.authenticate('admin', 'Adm-pass1', 'telnet')).toBeTruthy();
    expect(dev.running()).toContain('aaa authentication telnet console LOCAL\n');
  });
});

describe('PIX modes and prompts', () => {
  it('greets, then moves between >, # and (config)#, and logs off', async () => {
    const { out, term } = await run(device(), ['enable', 'En-pass1', 'configure terminal', 'exit', 'disable', 'quit']);
    expect(out).toBe(
      `${HELLO}pixfirewall> Password: pixfirewall# pixfirewall(config)# pixfirewall# pixfirewall> \nLogoff\n\n`,
    );
    expect(term.secretPrompts).toEqual(['Password: ']);
    expect(term.closed).toBe(true);
  });

  it('refuses a wrong enable password three times and stays unprivileged', async () => {
    const dev = device();
    const { out } = await run(dev, ['enable', 'no1', 'no2', 'no3', 'write memory']);
    expect(out).toContain('Password: Invalid password\nPassword: Invalid password\nPassword: Invalid password\npixfirewall> ');
    expect(out).not.toContain('pixfirewall# ');
    expect(dev.unexpected).toEqual(['write memory']);
  });

  it('accepts the enable password on a second try', async () => {
    const { out } = await run(device(), ['enable', 'no1', 'En-pass1']);
    expect(out).toMatch(/Invalid password\nPassword: pixfirewall# $/);
  });

  it('takes abbreviations: en, conf t, wr t, sh run, wr mem', async () => {
    const dev = device();
    const { out } = await run(dev, ['en', 'En-pass1', 'conf t', 'pass N3w-tel', 'wr t', 'sh run', 'wr mem']);
    expect(out).toContain('pixfirewall(config)# ');
    expect(out).toContain(`Building configuration...\n: Saved\n:\nPIX Version 6.3(5)\n`);
    expect(out).toContain('[OK]\n');
    expect(dev.unexpected).toEqual([]);
    expect(dev.passwdIs('N3w-tel')).toBe(true);
    expect(dev.startup()).toBe(dev.running());
  });

  it('takes the reference\'s own abbreviations: co t, wr t, wr m', async () => {
    const dev = device();
    const { out } = await run(dev, ['en', 'En-pass1', 'co t', 'usern ops pass Ops-pass1 priv 3', 'wr t', 'wr m']);
    expect(out).toContain(`username ops password ${pixHash('Ops-pass1')} encrypted privilege 3\n`);
    expect(out).toMatch(/Cryptochecksum: [0-9a-f ]{35}\n\[OK\]\npixfirewall\(config\)# $/);
    expect(dev.unexpected).toEqual([]);
    expect(dev.startup()).toBe(dev.running());
  });

  it('answers what it does not know with the PIX error, and records it', async () => {
    const dev = device();
    const { out } = await run(dev, ['foo', 'enable', 'En-pass1', 'passwd X1', 'configure terminal', 'end', 'pa 5']);
    expect(out).toContain(`pixfirewall> ${HELLO}pixfirewall> `);
    expect(out).toContain(`pixfirewall(config)# ${HELLO}pixfirewall(config)# `);
    expect(dev.unexpected).toEqual(['foo', 'passwd X1', 'end', 'pa 5']);
    expect(dev.passwdIs('Tel-pass1')).toBe(true);
  });
});

describe('PIX passwd, enable password and username', () => {
  it('changes passwd in the running configuration only, until write memory', async () => {
    const dev = device();
    const saved = dev.startup();
    const { out, term } = await run(dev, [...CONF, 'passwd N3w-tel', 'show configure']);
    expect(term.appliedChanges).toEqual(['passwd']);
    expect(dev.login.authenticate(undefined, 'N3w-tel')).toBeTruthy();
    expect(dev.login.authenticate(undefined, 'Tel-pass1')).toBeUndefined();
    expect(dev.running()).toContain(`passwd ${pixHash('N3w-tel')} encrypted\n`);
    expect(dev.startup()).toBe(saved);
    expect(out).toContain(`passwd ${pixHash('Tel-pass1')} encrypted\n`);
    expect(dev.running()).not.toContain('N3w-tel');

    const w = await run(dev, ['enable', 'En-pass1', 'write memory'], new MemoryTerminal('telnet'), { password: 'N3w-tel' });
    expect(w.out).toMatch(/pixfirewall# Building configuration\.\.\.\nCryptochecksum: [0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8}\n\[OK\]\npixfirewall# $/);
    expect(dev.startup()).toBe(dev.running());
  });

  it('takes an already encoded passwd', async () => {
    const dev = device();
    await run(dev, [...CONF, 'passwd 2KFQnbNIdI.2KYOU encrypted', 'passwd short encrypted']);
    expect(dev.passwdIs('cisco')).toBe(true);
    expect(dev.unexpected).toEqual(['passwd short encrypted']);
  });

  it('changes the enable password, proven by the next enable', async () => {
    const dev = device();
    const { term } = await run(dev, [...CONF, 'enable password N3w-en']);
    expect(term.appliedChanges).toEqual(['enable password level 15']);
    const old = await run(dev, ['enable', 'En-pass1', 'En-pass1', 'En-pass1']);
    expect(old.out).not.toContain('pixfirewall# ');
    const fresh = await run(dev, ['en', 'N3w-en']);
    expect(fresh.out).toMatch(/pixfirewall# $/);
  });

  it('keeps an enable password per level', async () => {
    const dev = device();
    await run(dev, [...CONF, 'enable password Lvl5-pw level 5']);
    expect(dev.running()).toContain(`enable password ${pixHash('Lvl5-pw')} level 5 encrypted\n`);
    expect(dev.enablePasswordIs('En-pass1')).toBe(true);
    const { out } = await run(dev, ['enable 5', 'Lvl5-pw']);
    expect(out).toMatch(/pixfirewall# $/);
  });

  it('adds, updates and removes local users, shown encrypted', async () => {
    const dev = device();
    const { out, term } = await run(dev, [
      ...CONF,
      'username ops password Ops-pass1',
      'username admin password Adm-pass2 privilege 15',
      'username ops password Ops-pass2',
      'show username',
      'no username ops',
    ]);
    expect(term.appliedChanges).toEqual(['username ops', 'username admin', 'username ops', 'no username ops']);
    expect(out).toContain(`username ops password ${pixHash('Ops-pass2')} encrypted privilege 2\n`);
    expect(out).toContain(`username admin password ${pixHash('Adm-pass2')} encrypted privilege 15\n`);
    expect(out).not.toContain('Ops-pass');
    expect(dev.userPasswordIs('admin', 'Adm-pass2')).toBe(true);
    expect(dev.userPasswordIs('ops', 'Ops-pass2')).toBe(false);
    expect(dev.startup()).toContain(`username admin password ${pixHash('Adm-pass1')} encrypted privilege 15\n`);
  });

  it('answers a malformed username line with its usage', async () => {
    const dev = device();
    const { out, term } = await run(dev, [...CONF, 'username ops password', 'username ops password x privilege 99']);
    expect(out).toContain('Usage:\tusername <name> {nopassword | password <password> [encrypted]} [privilege <level>]\n');
    expect(dev.unexpected).toEqual(['username ops password', 'username ops password x privilege 99']);
    expect(term.appliedChanges).toEqual([]);
  });

  it('prints an armed refusal instead of applying the change', async () => {
    const dev = device();
    const term = new MemoryTerminal('telnet');
    term.refuseNext = 'ERROR: password rejected';
    const { out } = await run(dev, [...CONF, 'passwd N3w-tel'], term);
    expect(out).toContain('pixfirewall(config)# ERROR: password rejected\npixfirewall(config)# ');
    expect(term.appliedChanges).toEqual([]);
    expect(dev.passwdIs('Tel-pass1')).toBe(true);
  });

  it('prints nothing more when cut right after the change applies, and saves nothing', async () => {
    const dev = device();
    const saved = dev.startup();
    const term = new MemoryTerminal('telnet');
    term.applied = (what: string): void => {
      term.appliedChanges.push(what);
      term.close();
    };
    const { out } = await run(dev, [...CONF, 'username admin password Cut-pw1', 'write memory'], term);
    expect(out.endsWith('pixfirewall(config)# ')).toBe(true);
    expect(dev.userPasswordIs('admin', 'Cut-pw1')).toBe(true);
    expect(dev.startup()).toBe(saved);
  });
});

describe('PIX pager and listings', () => {
  it('turns paging off and back on, in the running configuration', async () => {
    const dev = device();
    const term = new MemoryTerminal('telnet');
    term.pageLength = 24;
    await run(dev, [...CONF, 'no pager'], term);
    expect(term.pageLength).toBe(0);
    expect(dev.running()).toContain('\nno pager\n');
    expect(dev.paging.lines).toBe(0);
    const again = new MemoryTerminal('telnet');
    const { out } = await run(dev, ['enable', 'En-pass1', 'pager lines 30', 'show pager'], again);
    expect(again.pageLength).toBe(30);
    expect(out).toContain('pager lines 30\n');
    expect(dev.startup()).toContain('pager lines 24\n');
  });

  it('lists the same configuration for write terminal and show running-config', async () => {
    const dev = device();
    const { out } = await run(dev, ['enable', 'En-pass1', 'write terminal', 'show running-config']);
    const listing = dev.running();
    expect(out).toContain(`Building configuration...\n${listing}[OK]\n`);
    expect(out.split(listing)).toHaveLength(3);
    expect(listing).toMatch(/Cryptochecksum:[0-9a-f]{32}\n: end\n$/);
  });
});
