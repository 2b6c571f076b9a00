import { describe, expect, it } from 'vitest';
import { juniperNetscreen, type JuniperNetscreen } from '../../simulators/device/juniper-netscreen.js';
import { netscreenHash } from '../../simulators/device/juniper-netscreen-config.js';
import { MemoryTerminal, runSession } from '../../simulators/device/memory-terminal.js';

const ROOT = { username: 'netscreen', password: 'netscreen' };
const RW = { username: 'ops', password: 'Ops-Pass1' };
const RO = { username: 'audit', password: 'Audit-Pass1' };

function device(): JuniperNetscreen {
  return juniperNetscreen({
    admins: [
      { name: 'ops', password: 'Ops-Pass1', privilege: 'all' },
      { name: 'audit', password: 'Audit-Pass1', privilege: 'read-only' },
    ],
  });
}

function session(
  sim: JuniperNetscreen,
  lines: readonly string[],
  login: { username?: string; password: string } = ROOT,
  term = new MemoryTerminal('ssh'),
) {
  return runSession(sim, login, lines, term);
}

describe('juniper-netscreen login', () => {
  it('keeps the admin password as ScreenOS does: the factory hash for netscreen/netscreen', async () => {
    expect(netscreenHash('netscreen', 'netscreen')).toBe('nKVUM2rwMUzPcrkG5sWIHdCtqkAibn');
    const { output } = await session(juniperNetscreen(), ['get config']);
    expect(output).toContain('set admin name "netscreen"\nset admin password "nKVUM2rwMUzPcrkG5sWIHdCtqkAibn"\n');
  });

  it('asks for the admin name and password over Telnet, after its console banner', () => {
    const sim = device();
    expect(sim.login.usernameRequired()).toBe(true);
    expect(sim.login.banner?.()).toBe('Remote Management Console\n');
    expect(sim.login).toMatchObject({ usernamePrompt: 'login: ', passwordPrompt: 'password: ', attempts: 3 });
  });

  it('enforces the credentials of the root and the other admins', () => {
    const sim = device();
    expect(sim.login.authenticate('netscreen', 'netscreen')).toEqual({ name: 'netscreen' });
    expect(sim.login.authenticate('ops', 'Ops-Pass1')).toEqual({ name: 'ops' });
    expect(sim.login.authenticate('audit', 'Audit-Pass1')).toEqual({ name: 'audit' });
    expect(sim.login.authenticate('ops', 'netscreen')).toBeUndefined();
    expect(sim.login.authenticate('nobody', 'netscreen')).toBeUndefined();
    expect(sim.login.authenticate(undefined, 'netscreen')).toBeUndefined();
  });

  it('prompts with the hostname and an arrow, and set hostname changes it', async () => {
    const { output } = await session(device(), ['set hostname fw-edge']);
    expect(output).toBe('ns-> fw-edge-> ');
  });

  it('asks a factory device to accept the license once; anything but y ends the session', async () => {
    const sim = juniperNetscreen({ licensePending: true });
    const refused = await session(sim, ['n']);
    expect(refused.output).toContain('End User License Agreement');
    expect(refused.output.endsWith('Accept this agreement y/[n] \n')).toBe(true);
    expect(refused.term.closed).toBe(true);
    expect(sim.licenseAccepted).toBe(false);
    const accepted = await session(sim, ['y']);
    expect(accepted.output.endsWith('Accept this agreement y/[n] y\nns-> ')).toBe(true);
    expect(sim.licenseAccepted).toBe(true);
    const again = await session(sim, []);
    expect(again.output).toBe('ns-> ');
  });
});

describe('juniper-netscreen admins', () => {
  it('changes the root password at once in the running configuration, shown as its hash', async () => {
    const sim = device();
    const { output, term } = await session(sim, ['set admin password New-Root9', 'get config']);
    expect(term.appliedChanges).toEqual(['admin password']);
    expect(sim.login.authenticate('netscreen', 'New-Root9')).toEqual({ name: 'netscreen' });
    expect(sim.login.authenticate('netscreen', 'netscreen')).toBeUndefined();
    expect(output).toContain(`set admin password "${netscreenHash('netscreen', 'New-Root9')}"\n`);
    expect(output).not.toContain('New-Root9');
    expect(sim.startup().root.hash).toBe('nKVUM2rwMUzPcrkG5sWIHdCtqkAibn');
  });

  it('takes a quoted password with spaces, and abbreviated keywords', async () => {
    const sim = device();
    const { term } = await session(sim, ['set ad pass "two words"', 'set ad us ops pass "a b" priv all']);
    expect(term.appliedChanges).toEqual(['admin password', 'admin user ops']);
    expect(sim.login.authenticate('netscreen', 'two words')).toEqual({ name: 'netscreen' });
    expect(sim.login.authenticate('ops', 'a b')).toEqual({ name: 'ops' });
  });

  it('renames the root admin with set admin name', async () => {
    const sim = device();
    const { output, term } = await session(sim, ['set admin name fwadmin', 'set admin password Renamed-1', 'get conf']);
    expect(term.appliedChanges).toEqual(['admin name', 'admin password']);
    expect(output).toContain('set admin name "fwadmin"\n');
    expect(sim.login.authenticate('fwadmin', 'Renamed-1')).toEqual({ name: 'fwadmin' });
    expect(sim.login.authenticate('netscreen', 'netscreen')).toBeUndefined();
  });

  it('creates, changes and lists other admins as the root admin', async () => {
    const sim = device();
    const { output, term } = await session(sim, [
      'set admin user backup password Bk-Pass1 privilege read-only',
      'set admin user ops password Ops-Pass2',
      'get admin user',
    ]);
    expect(term.appliedChanges).toEqual(['admin user backup', 'admin user ops']);
    expect(output).toContain('Name                             Privilege\n-------------------------------- ---------\n');
    expect(output).toContain(`${'audit'.padEnd(32)} Read-Only\n${'backup'.padEnd(32)} Read-Only\n${'ops'.padEnd(32)} Read-Write\n`);
    expect(sim.running().users.get('ops')?.privilege).toBe('all');
    expect(sim.login.authenticate('ops', 'Ops-Pass2')).toEqual({ name: 'ops' });
    expect(sim.login.authenticate('backup', 'Bk-Pass1')).toEqual({ name: 'backup' });
  });

  it('lets a read-write admin change its own password but nothing of any other admin', async () => {
    const sim = device();
    const { output, term } = await session(
      sim,
      [
        'set admin user ops password Ops-Pass2',
        'set admin user audit password X-1',
        'set admin user ops password Ops-Pass3 privilege read-only',
        'set admin password X-2',
        'set admin name x',
        'unset admin user audit',
      ],
      RW,
    );
    expect(term.appliedChanges).toEqual(['admin user ops']);
    expect(output.split('Permission denied').length - 1).toBe(5);
    expect(sim.login.authenticate('ops', 'Ops-Pass2')).toEqual({ name: 'ops' });
    expect(sim.login.authenticate('audit', 'Audit-Pass1')).toEqual({ name: 'audit' });
    expect(sim.login.authenticate('netscreen', 'netscreen')).toEqual({ name: 'netscreen' });
  });

  it('gives a read-only admin get but no set, unset or save', async () => {
    const sim = device();
    const { output } = await session(sim, ['get admin user', 'set admin user audit password X', 'save', 'unset admin user ops'], RO);
    expect(output).toContain('Read-Write\n');
    expect(output).toContain('ns-> unknown keyword set\nns-> unknown keyword save\nns-> unknown keyword unset\n');
    expect(sim.login.authenticate('audit', 'Audit-Pass1')).toEqual({ name: 'audit' });
  });

  it('removes an admin with unset admin user, and says when there is none', async () => {
    const sim = device();
    const { output, term } = await session(sim, ['unset admin user ops', 'unset admin user ghost']);
    expect(term.appliedChanges).toEqual(['unset admin user ops']);
    expect(output).toContain('Admin user "ghost" not found.\n');
    expect(sim.login.authenticate('ops', 'Ops-Pass1')).toBeUndefined();
  });

  it('refuses set admin user for the root admin', async () => {
    const sim = device();
    const { output, term } = await session(sim, ['set admin user netscreen password X-3']);
    expect(output).toContain('"netscreen" is the root admin');
    expect(term.appliedChanges).toEqual([]);
  });

  it('prints an armed refusal instead of applying the change', async () => {
    const sim = device();
    const term = new MemoryTerminal('ssh');
    term.refuseNext = 'Password length must be at least 8.';
    const { output } = await session(sim, ['set admin password short', 'set admin password Longer-Pass1'], ROOT, term);
    expect(output).toContain('ns-> Password length must be at least 8.\nns-> ');
    expect(term.appliedChanges).toEqual(['admin password']);
    expect(sim.login.authenticate('netscreen', 'short')).toBeUndefined();
    expect(sim.login.authenticate('netscreen', 'Longer-Pass1')).toEqual({ name: 'netscreen' });
  });
});

describe('juniper-netscreen save, paging and errors', () => {
  it.each(['save', 'save config', 'sav'])('writes the running configuration to flash with %j', async (cmd) => {
    const sim = device();
    const { output } = await session(sim, ['set admin password Saved-1', cmd]);
    expect(output).toContain('ns-> Save System Configuration ...\nDone\nns-> ');
    expect(sim.startupText()).toBe(sim.runningText());
    sim.reload();
    expect(sim.login.authenticate('netscreen', 'Saved-1')).toEqual({ name: 'netscreen' });
  });

  it('loses an unsaved change on reload', async () => {
    const sim = device();
    await session(sim, ['set admin password Lost-1']);
    sim.reload();
    expect(sim.login.authenticate('netscreen', 'netscreen')).toEqual({ name: 'netscreen' });
  });

  it('turns paging off with set console page 0, kept in the configuration for the next login', async () => {
    const sim = device();
    expect(sim.paging).toMatchObject({ lines: 22, more: '--- more --- ' });
    const first = await session(sim, ['set console page 0', 'get config']);
    expect(first.term.pageLength).toBe(0);
    expect(first.output).toContain('set console page 0\n');
    const next = await session(sim, []);
    expect(next.term.pageLength).toBe(0);
    const reset = await session(sim, ['unset console page']);
    expect(reset.term.pageLength).toBe(22);
  });

  it('answers what it does not know with "unknown keyword" and records it', async () => {
    const sim = device();
    const { output } = await session(sim, ['xyz', 'set foo 1', 'get config extra', 'set admin user bob', 'set console page many']);
    expect(output).toContain('ns-> unknown keyword xyz\n');
    expect(output).toContain('ns-> unknown keyword foo\n');
    expect(output).toContain('ns-> unknown keyword extra\n');
    expect(output).toContain('ns-> command not completed\n');
    expect(output).toContain('ns-> unknown keyword many\n');
    expect(sim.unexpected).toEqual(['xyz', 'set foo 1', 'get config extra', 'set admin user bob', 'set console page many']);
  });
});

describe('juniper-netscreen exit', () => {
  it('logs out at once when nothing is unsaved', async () => {
    const { output, term } = await session(device(), ['exit']);
    expect(output).toBe('ns-> ');
    expect(term.closed).toBe(true);
  });

  it('does not save when the question is answered n, ignoring other keys', async () => {
    const sim = device();
    const { output, term } = await session(sim, ['set admin password Unsaved-2', 'exit', 'x', 'n']);
    expect(output.endsWith('ns-> Configuration modified, save? [y]/n n\n')).toBe(true);
    expect(term.closed).toBe(true);
    expect(sim.startup().root.hash).toBe('nKVUM2rwMUzPcrkG5sWIHdCtqkAibn');
  });

  it.each([['y'], ['\r']])('saves when the question is answered %j', async (key) => {
    const sim = device();
    const { output, term } = await session(sim, ['set admin password Kept-2', 'exit', key]);
    expect(output.endsWith('Configuration modified, save? [y]/n y\nSave System Configuration ...\nDone\n')).toBe(true);
    expect(term.closed).toBe(true);
    expect(sim.startup().root.hash).toBe(netscreenHash('netscreen', 'Kept-2'));
  });

  it('does not ask a read-only admin, who cannot save', async () => {
    const sim = device();
    await session(sim, ['set hostname changed']);
    const { output, term } = await session(sim, ['exit'], RO);
    expect(output).toBe('changed-> ');
    expect(term.closed).toBe(true);
  });
});
