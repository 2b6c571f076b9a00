import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnixShellSimulator } from '../../simulators/unix-shells/server.js';
import { SYSTEMS, type SystemName } from '../../simulators/unix-shells/systems.js';

/**
 * The Unix shell simulator on its own, driven by a plain SSH client rather than the adapter:
 * it must behave as its systems' manuals say for any caller (accepting their syntax in general,
 * refusing what they refuse), or the command-set tests would prove only that simulator and
 * adapter agree with each other.
 */

interface Step {
  /** Wait for this in the output… */
  readonly expect: RegExp;
  /** …then type this (a line end is added). */
  readonly send?: string;
}

/** Logs in, runs `command` (on a terminal with `pty`), answers prompts by `steps`; the exit status and all output. */
function session(sim: UnixShellSimulator, login: string, password: string, command: string, options: { pty?: boolean; steps?: readonly Step[]; stdin?: string } = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('ready', () => {
      client.exec(command, options.pty ? { pty: { term: 'dumb', rows: 24, cols: 200 } } : {}, (err, channel) => {
        if (err) return reject(err);
        let output = '';
        let seen = 0;
        const steps = [...(options.steps ?? [])];
        const advance = () => {
          const step = steps[0];
          if (!step) return;
          const m = step.expect.exec(output.slice(seen));
          if (!m) return;
          seen += m.index + m[0].length;
          steps.shift();
          if (step.send !== undefined) channel.write(`${step.send}\n`);
          advance();
        };
        const onData = (d: Buffer) => {
          output += d.toString('utf8');
          advance();
        };
        channel.on('data', onData);
        channel.stderr.on('data', onData);
        if (options.stdin !== undefined) channel.end(options.stdin);
        channel.on('close', (code: number | null) => {
          client.end();
          resolve({ code, output: output.replace(/\r\n/g, '\n') });
        });
      });
    });
    client.on('error', reject);
    client.connect({ host: sim.host, port: sim.port, username: login, password, readyTimeout: 10_000, tryKeyboard: false });
  });
}

function loginRefused(sim: UnixShellSimulator, login: string, password: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('ready', () => {
      client.end();
      resolve(false);
    });
    client.on('error', (err: Error & { level?: string }) => (err.level === 'client-authentication' ? resolve(true) : reject(err)));
    client.connect({ host: sim.host, port: sim.port, username: login, password, readyTimeout: 10_000, tryKeyboard: false });
  });
}

const ALL: readonly SystemName[] = ['aix', 'hp-ux', 'solaris', 'macos', 'esxi'];

for (const system of ALL) {
  const t = SYSTEMS[system];
  describe(`unix shell simulator: ${t.title}`, () => {
    let sim: UnixShellSimulator;
    const root = () => sim.accounts.get('root')!.password;
    beforeAll(async () => {
      sim = await UnixShellSimulator.start({ system });
      sim.add('alice', 'Alice-pw-1', { sudoer: true });
      sim.add('bob', 'Bob-pw-1');
    });
    afterAll(() => sim.close());

    it('enforces passwords at login, and its shell takes quotes, variables, prefixes and && / ||', async () => {
      expect(await loginRefused(sim, 'alice', 'wrong')).toBe(true);
      expect(await loginRefused(sim, 'nobody', 'x')).toBe(true);
      const r = await session(sim, 'alice', 'Alice-pw-1', `X='a b'; printf '%s|%s\\n' "$X" it\\'s && false || printf 'or %d\\n' 7; Y=1 true`);
      expect(r).toEqual({ code: 0, output: "a b|it's\nor 7\n" });
    });

    it("answers a command it does not have with the shell's own words and status 127", async () => {
      const r = await session(sim, 'alice', 'Alice-pw-1', 'frobnicate --now');
      expect(r.code).toBe(127);
      expect(r.output).toContain(t.notFound(system === 'solaris' ? 'bash' : system === 'aix' ? 'ksh' : 'sh', 'frobnicate'));
      expect(sim.unexpected.splice(0)).toEqual(['the shell was asked to run "frobnicate"']);
    });

    it('su: the root password at its prompt runs the command as root; a wrong one is refused in its words', async () => {
      const ok = await session(sim, 'bob', 'Bob-pw-1', "su - root -c 'id -un'", { pty: true, steps: [{ expect: /[Pp]assword: ?$/, send: root() }] });
      expect(ok.code).toBe(0);
      expect(ok.output).toMatch(/^root$/m);
      expect(ok.output).not.toContain(root());
      const bad = await session(sim, 'bob', 'Bob-pw-1', 'su - root -c true', { pty: true, steps: [{ expect: /[Pp]assword: ?$/, send: 'wrong' }] });
      expect(bad.code).toBe(1);
      expect(bad.output).toContain(t.suRefused);
    });

    if (t.sudo) {
      it('sudo: the caller\'s own password, three tries; a caller not in sudoers gets the lecture', async () => {
        const ok = await session(sim, 'alice', 'Alice-pw-1', "sudo -p 'pw: ' id -un", { pty: true, steps: [{ expect: /pw: $/, send: 'Alice-pw-1' }] });
        expect(ok).toMatchObject({ code: 0 });
        expect(ok.output).toMatch(/^root$/m);
        const viaStdin = await session(sim, 'alice', 'Alice-pw-1', "sudo -S -k -p '' id -un", { stdin: 'Alice-pw-1\n' });
        expect(viaStdin).toEqual({ code: 0, output: 'root\n' });
        const wrong = await session(sim, 'alice', 'Alice-pw-1', "sudo -S -p '' true", { stdin: 'a\nb\nc\n' });
        expect(wrong.code).toBe(1);
        expect(wrong.output).toBe('Sorry, try again.\nSorry, try again.\nsudo: 3 incorrect password attempts\n');
        const lecture = await session(sim, 'bob', 'Bob-pw-1', "sudo -S -p '' true", { stdin: 'Bob-pw-1\n' });
        expect(lecture.code).toBe(1);
        expect(lecture.output).toContain('bob is not in the sudoers file.');
      });
    } else {
      it('has no sudo', async () => {
        const r = await session(sim, 'alice', 'Alice-pw-1', 'sudo true');
        expect(r.code).toBe(127);
        expect(r.output).toContain(t.notFound('sh', 'sudo'));
        sim.unexpected.splice(0);
      });
    }

    it('passwd USER as root: a mismatch asks again; after the last try it gives up and the password is unchanged', async () => {
      const [first, second] = t.rootPrompts('bob');
      const esc = (s: string) => new RegExp(`${s.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
      const steps: Step[] = [];
      for (let i = 0; i < t.tries; i++) steps.push({ expect: esc(first), send: `Try-${i}-a` }, { expect: esc(second), send: `Try-${i}-b` });
      const r = await session(sim, 'root', root(), 'passwd bob', { pty: true, steps });
      expect(r.code).toBe(1);
      expect(r.output.split(t.mismatch).length - 1).toBe(t.tries);
      expect(r.output).toContain(t.exhausted);
      expect(r.output).not.toContain('Try-0-a');
      expect(sim.accounts.get('bob')!.password).toBe('Bob-pw-1');
    });

    it('passwd as the user: the old password first; a wrong one ends it in the system\'s words', async () => {
      const r = await session(sim, 'bob', 'Bob-pw-1', 'passwd', { pty: true, steps: [{ expect: /: ?$/, send: 'Not-bobs-pw' }] });
      expect(r.code).toBe(1);
      expect(r.output).toContain(t.selfHeader('bob'));
      expect(r.output).toContain(t.wrongOld.split('\n')[0]);
    });

    it('passwd for a user that does not exist says so', async () => {
      const r = await session(sim, 'root', root(), 'passwd nosuch', { pty: true });
      expect(r.code).toBe(1);
      expect(r.output).toContain(t.unknownUser('nosuch').split('\n')[0]);
    });
  });
}

describe('unix shell simulator: AIX chpasswd and pwdadm', () => {
  let sim: UnixShellSimulator;
  const root = () => sim.accounts.get('root')!.password;
  beforeAll(async () => {
    sim = await UnixShellSimulator.start({ system: 'aix' });
    for (const u of ['u1', 'u2', 'u3']) sim.add(u, `${u}-old`);
  });
  afterAll(() => sim.close());
  const flags = async (u: string) => (await session(sim, 'root', root(), `pwdadm -q ${u}`)).output;

  it('chpasswd sets ADMCHG by default, -f sets the flags given, -c clears them; a login with ADMCHG must change first', async () => {
    expect((await session(sim, 'root', root(), '/usr/bin/chpasswd', { stdin: 'u1:u1-new\nu2:u2-new\n' })).code).toBe(0);
    expect(await flags('u1')).toMatch(/flags = ADMCHG/);
    const expired = await session(sim, 'u1', 'u1-new', 'true');
    expect(expired).toEqual({ code: 1, output: 'WARNING: Your password has expired.\nPassword change required but no TTY available.\n' });
    expect((await session(sim, 'root', root(), 'chpasswd -f NOCHECK', { stdin: 'u2:u2-newer\n' })).code).toBe(0);
    expect(await flags('u2')).toMatch(/flags = NOCHECK/);
    expect((await session(sim, 'root', root(), 'chpasswd -c', { stdin: 'u1:u1-newest\n' })).code).toBe(0);
    expect(await flags('u1')).not.toMatch(/flags/);
    expect((await session(sim, 'u1', 'u1-newest', 'id -un')).output).toBe('u1\n');
    expect(await loginRefused(sim, 'u1', 'u1-new')).toBe(true);
  });

  it('chpasswd: an unknown user is 3004-687 and status 1, the other lines still applied; only root may run it; unknown flags are refused', async () => {
    const r = await session(sim, 'root', root(), 'chpasswd -c', { stdin: 'nosuch:x\nu3:u3-new\n' });
    expect(r).toEqual({ code: 1, output: '3004-687 User "nosuch" does not exist.\n' });
    expect(sim.accounts.get('u3')!.password).toBe('u3-new');
    expect((await session(sim, 'u3', 'u3-new', 'chpasswd -c', { stdin: 'u2:x\n' })).code).toBe(1);
    const flag = await session(sim, 'root', root(), 'chpasswd -z', { stdin: '' });
    expect(flag.code).toBe(1);
    expect(flag.output).toContain('chpasswd: Not a recognized flag: z');
  });

  it("pwdadm USER asks the invoker's password, then the new one twice, and sets ADMCHG; pwdadm -c clears it", async () => {
    const r = await session(sim, 'root', root(), 'pwdadm u3', {
      pty: true,
      steps: [
        { expect: /root's Password: $/, send: root() },
        { expect: /u3's New password: $/, send: 'u3-pwdadm' },
        { expect: /again:$/, send: 'u3-pwdadm' },
      ],
    });
    expect(r.code).toBe(0);
    expect(await flags('u3')).toMatch(/flags = ADMCHG/);
    expect((await session(sim, 'root', root(), 'pwdadm -c u3')).code).toBe(0);
    expect((await session(sim, 'u3', 'u3-pwdadm', 'id -un')).output).toBe('u3\n');
  });
});
