/**
 * The command set of the `windows` type: fixed command lines for OpenSSH for Windows, whose
 * default shell (cmd.exe, or PowerShell when HKLM\SOFTWARE\OpenSSH\DefaultShell says so) runs
 * the exec request. Both lines below mean the same to either shell.
 *
 * - PowerShell: `powershell.exe -NoProfile -NonInteractive -EncodedCommand <base64>`, the script
 *   (UTF-16LE, base64: the form about_PowerShell_exe documents for scripts with quotes and braces)
 *   holds the account name as a PowerShell single-quoted literal and NO password. The script prints
 *   a ready line, reads the new password as one UTF-8 line from standard input through its own
 *   StreamReader (so neither the console code page nor [Console]::InputEncoding, which needs a
 *   console an SSH exec does not have, decides how it is decoded), makes it a SecureString
 *   (ConvertTo-SecureString -AsPlainText -Force) and calls Set-LocalUser -Name -Password.
 *   It reports one result line: OK, or the error's FullyQualifiedErrorId, category, exception
 *   type and message. The password is data only: if anything goes wrong it is never run as code.
 * - net user (no PowerShell, or no Set-LocalUser): `net user "NAME" *` on a terminal, which
 *   prompts for the password twice (and asks to confirm one longer than 14 characters).
 *
 * References: learn.microsoft.com — Set-LocalUser (Microsoft.PowerShell.LocalAccounts),
 * ConvertTo-SecureString, about_PowerShell_exe (-EncodedCommand, -NonInteractive), Net user
 * (Windows Commands), OpenSSH Server configuration for Windows (DefaultShell).
 */

/** The result line the scripts print, and the line printed before the password is read. */
export const READY_LINE = 'RPR-READY';
export const RESULT_PREFIX = 'RPR-RESULT:';
export const PROBE_PREFIX = 'RPR-PROBE:';

/**
 * Characters PowerShell reads as a single quote (its tokenizer takes the typographic ones too);
 * inside a single-quoted string each is escaped by doubling it, as
 * System.Management.Automation.Language.CodeGeneration.EscapeSingleQuotedStringContent does.
 */
const PS_SINGLE_QUOTES = /['\u2018\u2019\u201a\u201b]/g;

/** A PowerShell single-quoted string literal of `text`: nothing in it is expanded. */
export function psQuote(text: string): string {
  return `'${text.replace(PS_SINGLE_QUOTES, (q) => q + q)}'`;
}

/** Characters PowerShell reads as a double quote: a name holding one cannot be put in "..." for both cmd.exe and PowerShell. */
const PS_DOUBLE_QUOTES = /["\u201c\u201d\u201e]/;

/** Script lines are joined with LF; PowerShell takes either line ending. */
function script(lines: readonly string[]): string {
  return lines.join('\n');
}

/** The Set-LocalUser script for one account. `name` has passed windowsLocalUsername. */
export function setLocalUserScript(name: string): string {
  return script([
    "$ErrorActionPreference = 'Stop'",
    "$ProgressPreference = 'SilentlyContinue'",
    'try {',
    '  $in = New-Object System.IO.StreamReader([Console]::OpenStandardInput(), (New-Object System.Text.UTF8Encoding($false)), $false)',
    `  [Console]::Out.WriteLine('${READY_LINE}')`,
    '  $p = ConvertTo-SecureString -String $in.ReadLine() -AsPlainText -Force',
    `  Set-LocalUser -Name ${psQuote(name)} -Password $p`,
    `  [Console]::Out.WriteLine('${RESULT_PREFIX}OK')`,
    '  exit 0',
    '} catch {',
    `  [Console]::Out.WriteLine('${RESULT_PREFIX}ERROR|' + $_.FullyQualifiedErrorId + '|' + $_.CategoryInfo.Category + '|' + $_.Exception.GetType().FullName + '|' + ($_.Exception.Message -replace '\\s+', ' '))`,
    '  exit 1',
    '}',
  ]);
}

/** Whether Set-LocalUser is there (the LocalAccounts module is missing before PowerShell 5.1 and in 32-bit PowerShell on 64-bit Windows). */
export const PROBE_SCRIPT = script([
  "$ProgressPreference = 'SilentlyContinue'",
  `if (Get-Command -Name Set-LocalUser -ErrorAction SilentlyContinue) { [Console]::Out.WriteLine('${PROBE_PREFIX}Set-LocalUser') } else { [Console]::Out.WriteLine('${PROBE_PREFIX}none') }`,
]);

/** The command line that runs a script: no quotes, no user text, the same under cmd.exe and PowerShell. */
export function powershellCommand(scriptText: string): string {
  return `powershell.exe -NoProfile -NonInteractive -EncodedCommand ${Buffer.from(scriptText, 'utf16le').toString('base64')}`;
}

/**
 * `net user "NAME" *`. The double quotes keep cmd.exe from reading `^` (its escape character)
 * and spaces, and PowerShell from splitting the name; the name has passed windowsLocalUsername,
 * which refuses `"`, `%`, `!`, `$` and backtick. Returns undefined for a name holding a typographic
 * double quote, which PowerShell would take as the end of the string.
 */
export function netUserCommand(name: string): string | undefined {
  if (PS_DOUBLE_QUOTES.test(name)) return undefined;
  return `net user "${name}" *`;
}

/** What a script's result line says. */
export type ScriptResult = { ok: true } | { ok: false; errorId: string; category: string; exceptionType: string; message: string };

/** The last result line in the output, or undefined when there is none. */
export function parseResult(output: string): ScriptResult | undefined {
  const lines = output.split(/\r?\n|\r/).filter((l) => l.startsWith(RESULT_PREFIX));
  const last = lines[lines.length - 1];
  if (last === undefined) return undefined;
  const rest = last.slice(RESULT_PREFIX.length);
  if (rest === 'OK') return { ok: true };
  const [tag, errorId = '', category = '', exceptionType = '', ...message] = rest.split('|');
  if (tag !== 'ERROR') return undefined;
  return { ok: false, errorId, category, exceptionType, message: message.join('|').trim() };
}

/** The first word of a FullyQualifiedErrorId ("UserNotFound,Microsoft.PowerShell.Commands.SetLocalUserCommand" → "UserNotFound"). */
export function errorIdName(errorId: string): string {
  return errorId.split(',')[0]!.trim();
}

/** Prompts and messages of `net user NAME *` (Windows Commands: net user; NET HELPMSG numbers). */
export const NET_USER = {
  firstPrompt: /Type a password for the user:\s*$/,
  secondPrompt: /Retype the password to confirm:\s*$/,
  /** Asked when the password is longer than 14 characters; the default answer is Y. */
  longPasswordPrompt: /Do you want to continue this operation\? \(Y\/N\) \[Y\]:\s*$/,
  success: /The command completed successfully\./,
  /** NERR_UserNotFound. */
  userNotFound: /NET HELPMSG 2221|The user name could not be found\./,
  /** NERR_PasswordTooShort: length, complexity or history. */
  policy: /NET HELPMSG 2245|does not meet the password policy requirements/,
  /** ERROR_ACCESS_DENIED. */
  accessDenied: /System error 5 has occurred|Access is denied\./,
  mismatch: /The passwords do not match\./,
} as const;

/** cmd.exe (exit status 9009) or PowerShell saying a program does not exist. */
export const NOT_RECOGNIZED = /is not recognized as (an internal or external command|the name of a cmdlet)/;
