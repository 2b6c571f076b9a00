import ssh2 from 'ssh2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WindowsOpenSshSimulator } from '../../simulators/windows-openssh/server.js';

/**
 * The simulator refuses what Windows would refuse and mangles what Windows would mangle, so an
 * adapter mistake makes a test fail: these drive it with raw command lines, not with the adapter.
 */

function encoded(script: string): string {
  return `powershell.exe -NoProfile -NonInteractive -EncodedCommand ${Buffer.from(script, 'utf16le').toString('base64')}`;
}

/** Runs one command line as `login`, writing `stdin` (then EOF) once `waitFor` was printed; returns the exit status and output. */
function run(
  sim: WindowsOpenSshSimulator,
  login: string,
  password: string,
  command: string,
  options: { stdin?: string; waitFor?: string; pty?: boolean } = {},
): Promise<{ code: number | undefined; out: string }> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () => {
      client.exec(command, options.pty ? { pty: { term: 'dumb', cols: 200, rows: 40 } } : {}, (err, ch) => {
        if (err) return reject(err);
        let out = '';
        let code: number | undefined;
        let sent = false;
        const feed = () => {
          if (sent || options.stdin === undefined) return;
          if (options.waitFor && !out.includes(options.waitFor)) return;
          sent = true;
          ch.write(Buffer.from(options.stdin, 'utf8'));
          if (!options.pty) ch.end();
        };
        ch.on('data', (d: Buffer) => ((out += d.toString('utf8')), feed()));
        ch.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
        ch.on('exit', (c: number) => (code = c));
        ch.on('close', () => {
          client.end();
          resolve({ code, out });
        });
        feed();
      });
    });
    client.connect({ host: sim.host, port: sim.port, username: login, password, readyTimeout: 5_000 });
  });
}

const READ_WITH = (reader: string[], name = "'u1'") => [
  "$ErrorActionPreference = 'Stop'",
  ...reader,
  `$p = ConvertTo-SecureString -String ${reader.some((l) => l.startsWith('$in')) ? '$in.ReadLine()' : '([Console]::In.ReadLine())'} -AsPlainText -Force`,
  `Set-LocalUser -Name ${name} -Password $p`,
].join('\n');

describe('the Windows OpenSSH simulator behaves as the documentation says Windows does', () => {
  let sim: WindowsOpenSshSimulator;
  beforeEach(async () => {
    sim = await WindowsOpenSshSimulator.start();
    sim.sam.add('Administrator', 'Admin-pw-1', { admin: true });
    sim.sam.add('u1', 'Old-u1-pw-1');
    sim.sam.add('admin', 'Victim-pw-1');
  });
  afterEach(() => sim.close());

  it('stdin through [Console]::In is decoded with the OEM code page unless the script set InputEncoding to UTF-8', async () => {
    await run(sim, 'Administrator', 'Admin-pw-1', encoded(READ_WITH([])), { stdin: 'Pässwörd-1\n' });
    expect(sim.passwordOf('u1')).toBe('P├ñssw├╢rd-1');
    await run(sim, 'Administrator', 'Admin-pw-1', encoded(READ_WITH(['[Console]::InputEncoding = [System.Text.Encoding]::UTF8'])), { stdin: 'Pässwörd-2\n' });
    expect(sim.passwordOf('u1')).toBe('Pässwörd-2');
    const utf8Reader = '$in = New-Object System.IO.StreamReader([Console]::OpenStandardInput(), (New-Object System.Text.UTF8Encoding($false)), $false)';
    await run(sim, 'Administrator', 'Admin-pw-1', encoded(READ_WITH([utf8Reader])), { stdin: 'Pässwörd-3\n' });
    expect(sim.passwordOf('u1')).toBe('Pässwörd-3');
    expect(sim.unexpected).toEqual([]);
  });

  it('a typographic quote left undoubled ends the name literal: the statement is refused and nothing changes', async () => {
    const r = await run(sim, 'Administrator', 'Admin-pw-1', encoded(READ_WITH(['[Console]::InputEncoding = [System.Text.Encoding]::UTF8'], "'ad\u2019min'")), { stdin: 'New-pw-1\n' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/is not recognized as the name of a cmdlet/);
    expect(sim.unexpected).toHaveLength(1);
    expect(sim.passwordOf('admin')).toBe('Victim-pw-1');
  });

  it('cmd.exe: an unknown program is not recognized (9009); a password on a net user command line and `&` outside quotes are recorded', async () => {
    const r1 = await run(sim, 'Administrator', 'Admin-pw-1', 'whoami /all');
    expect(r1).toEqual({ code: 9009, out: "'whoami' is not recognized as an internal or external command,\noperable program or batch file.\n" });
    const r2 = await run(sim, 'Administrator', 'Admin-pw-1', 'net user u1 Plain-On-Argv-1');
    expect(r2.code).toBe(0);
    await run(sim, 'Administrator', 'Admin-pw-1', 'net user "u1" * & net user admin x');
    expect(sim.unexpected.join('\n')).toMatch(/password on its command line[^]*"&" outside quotes/);
    expect(sim.commandText()).toContain('Plain-On-Argv-1');
  });

  it('net user NAME * prompts twice on a terminal, asks about more than 14 characters, and says it completed', async () => {
    const r = await run(sim, 'Administrator', 'Admin-pw-1', 'net user "u1" *', { pty: true, stdin: 'Fifteen-chars-1\rFifteen-chars-1\rY\r', waitFor: 'Type a password' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Type a password for the user: \r\nRetype the password to confirm: \r\nThe password entered is longer than 14 characters[^]*\(Y\/N\) \[Y\]: \r\nThe command completed successfully\./);
    expect(sim.passwordOf('u1')).toBe('Fifteen-chars-1');
  });

  it('powershell.exe is "not recognized" on a host without it; a non-administrator gets Access denied from Set-LocalUser', async () => {
    const bare = await WindowsOpenSshSimulator.start({ powershell: 'absent' });
    bare.sam.add('Administrator', 'Admin-pw-1', { admin: true });
    const r1 = await run(bare, 'Administrator', 'Admin-pw-1', encoded('exit 0'));
    await bare.close();
    expect(r1.code).toBe(9009);
    expect(r1.out).toMatch(/^'powershell\.exe' is not recognized/);

    const script = [
      'try {',
      "  $p = ConvertTo-SecureString -String ([Console]::In.ReadLine()) -AsPlainText -Force",
      "  Set-LocalUser -Name 'admin' -Password $p",
      '} catch {',
      "  [Console]::Out.WriteLine('E|' + $_.FullyQualifiedErrorId + '|' + $_.CategoryInfo.Category)",
      '  exit 1',
      '}',
    ].join('\n');
    const r2 = await run(sim, 'u1', 'Old-u1-pw-1', encoded(script), { stdin: 'New-pw-1\n' });
    expect(r2).toEqual({ code: 1, out: 'E|AccessDenied,Microsoft.PowerShell.Commands.SetLocalUserCommand|PermissionDenied\r\n' });
    expect(sim.passwordOf('admin')).toBe('Victim-pw-1');
  });
});
