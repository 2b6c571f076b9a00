import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../../layers/engine/secret.js';
import { loginName } from '../../../layers/resources/windows/adapter.js';
import {
  errorIdName,
  netUserCommand,
  parseResult,
  powershellCommand,
  PROBE_SCRIPT,
  psQuote,
  setLocalUserScript,
} from '../../../layers/resources/windows/commands.js';
import { windowsLocalUsername } from '../../../layers/resources/windows/username.js';
import { cmdWords, readPsSingleQuoted } from '../../simulators/windows-openssh/server.js';

describe('windows command builders', () => {
  it('psQuote doubles every character PowerShell reads as a single quote', () => {
    expect(psQuote('alice')).toBe("'alice'");
    expect(psQuote("o'brien")).toBe("'o''brien'");
    expect(psQuote('ad\u2019min')).toBe("'ad\u2019\u2019min'");
    expect(psQuote('\u2018\u201a\u201b')).toBe("'\u2018\u2018\u201a\u201a\u201b\u201b'");
    expect(psQuote('$(x) `n "y"')).toBe("'$(x) `n \"y\"'");
  });

  it('a quoted name reads back as exactly that name, to the end of the literal, for random names the schema takes', () => {
    const alphabet = ['a', 'Z', '0', ' ', '.', '-', '_', '^', '{', '}', '#', '~', '\u2018', '\u2019', '\u201a', '\u201b', '\u201c', 'ü', '日'];
    let tried = 0;
    for (let i = 0; i < 2000; i++) {
      const name = Array.from({ length: 1 + randomInt(20) }, () => alphabet[randomInt(alphabet.length)]).join('');
      if (!windowsLocalUsername.safeParse(name).success) continue;
      tried++;
      const quoted = `${psQuote(name)} -Password $p`;
      const read = readPsSingleQuoted(quoted, 0);
      expect(read?.value, JSON.stringify(name)).toBe(name);
      expect(quoted.slice(read!.end)).toBe(' -Password $p');
    }
    expect(tried).toBeGreaterThan(500);
  });

  it('the PowerShell command line holds only the fixed words and base64; the script holds the quoted name and no password slot', () => {
    const script = setLocalUserScript("x\u2019 ; Set-LocalUser Administrator");
    const line = powershellCommand(script);
    expect(line).toMatch(/^powershell\.exe -NoProfile -NonInteractive -EncodedCommand [A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(line.split(' ').pop()!, 'base64').toString('utf16le')).toBe(script);
    expect(script).toContain("Set-LocalUser -Name 'x\u2019\u2019 ; Set-LocalUser Administrator' -Password $p");
    expect(script).toContain('[Console]::OpenStandardInput()');
    expect(script).toContain('New-Object System.Text.UTF8Encoding($false)');
    expect(script).toContain('ConvertTo-SecureString -String $in.ReadLine() -AsPlainText -Force');
    // The password is read before Set-LocalUser and only after the ready line.
    expect(script.indexOf('RPR-READY')).toBeLessThan(script.indexOf('ReadLine'));
    expect(powershellCommand(PROBE_SCRIPT)).toMatch(/^powershell\.exe -NoProfile -NonInteractive -EncodedCommand [A-Za-z0-9+/]+=*$/);
    expect(PROBE_SCRIPT).toContain('Get-Command -Name Set-LocalUser -ErrorAction SilentlyContinue');
  });

  it('net user: the name double-quoted, so cmd.exe keeps ^ and spaces; a typographic double quote is refused', () => {
    expect(netUserCommand('ad^min')).toBe('net user "ad^min" *');
    expect(cmdWords(netUserCommand('ad^min')!).list).toEqual(['net', 'user', 'ad^min', '*']);
    expect(cmdWords('net user ad^min *').list).toEqual(['net', 'user', 'admin', '*']);
    expect(cmdWords(netUserCommand('John Smith')!).list).toEqual(['net', 'user', 'John Smith', '*']);
    for (const q of ['\u201c', '\u201d', '\u201e', '"']) expect(netUserCommand(`a${q}b`)).toBeUndefined();
  });

  it('parseResult reads the last result line; an error keeps a message that holds "|"', () => {
    expect(parseResult('noise\r\nRPR-RESULT:OK\r\n')).toEqual({ ok: true });
    expect(parseResult('RPR-READY\r\n')).toBeUndefined();
    expect(parseResult('RPR-RESULT:ERROR|UserNotFound,Microsoft.PowerShell.Commands.SetLocalUserCommand|ObjectNotFound|Microsoft.PowerShell.Commands.UserNotFoundException|User a|b was not found.\r\n')).toEqual({
      ok: false,
      errorId: 'UserNotFound,Microsoft.PowerShell.Commands.SetLocalUserCommand',
      category: 'ObjectNotFound',
      exceptionType: 'Microsoft.PowerShell.Commands.UserNotFoundException',
      message: 'User a|b was not found.',
    });
    expect(parseResult('RPR-RESULT:SOMETHING\n')).toBeUndefined();
    expect(errorIdName('InvalidPassword,Microsoft.PowerShell.Commands.SetLocalUserCommand')).toBe('InvalidPassword');
  });

  it('loginName: a local admin by name; a domain admin by UPN, or sAMAccountName@domain when the domain is known', () => {
    const c = (username: string, domain?: string) => ({ accountId: 'x/y', username, password: new Secret('p'), ...(domain ? { domain } : {}) });
    expect(loginName(c('Administrator'), false)).toBe('Administrator');
    expect(loginName(c('ops@corp.example.com'), true)).toBe('ops@corp.example.com');
    expect(loginName(c('ops', 'corp.example.com'), true)).toBe('ops@corp.example.com');
    expect(loginName(c('ops'), true)).toBe('ops');
  });
});
