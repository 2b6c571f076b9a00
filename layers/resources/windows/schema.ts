import { z } from 'zod';
import { accountIdSchema, caCertificateSchema, hostSchema, portSchema, resourceBase } from '../common.js';
import { defineType, tcp } from '../definition.js';
import { windowsLocalUsername } from './username.js';

export const windowsSchema = z
  .object({
    ...resourceBase,
    type: z.literal('windows'),
    /** OpenSSH for Windows, or WinRM over HTTPS (plain-HTTP WinRM is not offered: it would carry the password in the clear). */
    transport: z.enum(['ssh', 'winrm-https']).default('ssh'),
    /** Unset: 22 for SSH, 5986 for WinRM over HTTPS. */
    port: portSchema.optional(),
    /** SHA-256 fingerprint of the SSH host key (base64, without "SHA256:"); SSH only. */
    hostKeySha256: z.string().regex(/^[A-Za-z0-9+/]{43}=?$/, 'must be a base64 SHA-256 fingerprint').optional(),
    /** CA bundle that signed the WinRM listener's certificate; WinRM only. */
    caCertificate: caCertificateSchema.optional(),
    /** Name the WinRM certificate must carry when it differs from `host` (e.g. connecting by IP address). */
    tlsServerName: hostSchema.optional(),
    /** A local administrator of this host, or a domain account (of a windows-domain resource) that administers it. */
    adminAccount: accountIdSchema,
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.transport === 'ssh' && r.caCertificate) ctx.addIssue({ code: 'custom', path: ['caCertificate'], message: 'is only used with transport "winrm-https"' });
    if (r.transport === 'ssh' && r.tlsServerName) ctx.addIssue({ code: 'custom', path: ['tlsServerName'], message: 'is only used with transport "winrm-https"' });
    if (r.transport === 'winrm-https' && r.hostKeySha256) ctx.addIssue({ code: 'custom', path: ['hostKeySha256'], message: 'is only used with transport "ssh"' });
  })
  .transform((r) => ({ ...r, port: r.port ?? (r.transport === 'winrm-https' ? 5986 : 22) }));

export type WindowsResource = z.output<typeof windowsSchema>;

export const windowsDefinition = defineType({
  type: 'windows',
  title: 'Microsoft Windows (local accounts)',
  schema: windowsSchema,
  defaultPort: 22,
  ports: (r) => tcp(r.port),
  defaultPorts: tcp(22, 5986),
  // The SAM takes up to 256 characters through the API, but the interactive logon dialog
  // takes only 127; a password nobody can type at the console is a trap, so 127 is the limit.
  policy: { length: 24, maxLength: 127 },
  username: windowsLocalUsername,
  references: (r) => [{ role: 'admin', field: 'adminAccount', accountId: r.adminAccount, fromResourceTypes: ['windows-domain'] }],
  onPremises: true,
  verification: 'login',
  implementation: {
    family: 'windows',
    adapter: () => import('./adapter.js').then((m) => m.createWindowsAdapter),
    testedAgainst: {
      kind: 'simulator',
      what: "Windows OpenSSH shell (cmd.exe or PowerShell as default shell; PowerShell `Set-LocalUser` with the password on stdin, `net user NAME *` fallback) written from Microsoft's documentation; no Windows host",
      using: ['windows-openssh'],
    },
  },
  changedBy:
    'SSH (OpenSSH for Windows) as the admin: PowerShell `Set-LocalUser` with the password read from standard input as a SecureString; `net user NAME *` at its prompts where PowerShell is absent (WinRM over HTTPS: configuration only, not yet)',
  verifiedBy: 'a fresh SSH login as the account',
});
