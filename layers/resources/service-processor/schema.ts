import { z } from 'zod';
import { cliTransport, resourceBase } from '../common.js';
import { defineType, tcp } from '../definition.js';
import type { PolicyInput } from '../../engine/policy.js';
import { cliPort } from '../network-device/fields.js';

export const SERVICE_PROCESSOR_TYPES = ['as400', 'alom', 'ilom', 'xscf'] as const;
export type ServiceProcessorType = (typeof SERVICE_PROCESSOR_TYPES)[number];

/**
 * No configuration beyond how to connect: each account logs in as itself and changes its own
 * password at the system's prompts. SSH is the default for all four, AS/400 included: its
 * Telnet is TN5250 (block-mode screens) rather than a line-mode shell, so choosing it is explicit.
 */
export function serviceProcessorSchema<T extends ServiceProcessorType>(type: T) {
  return z
    .object({
      ...resourceBase,
      ...cliTransport,
      type: z.literal(type),
    })
    .strict()
    .transform((r) => ({ ...r, port: cliPort(r) }));
}

export type ServiceProcessorResource = z.output<ReturnType<typeof serviceProcessorSchema>>;

const TITLES: Record<ServiceProcessorType, string> = {
  as400: 'IBM i (AS/400)',
  alom: 'Sun ALOM',
  ilom: 'Oracle ILOM',
  xscf: 'Fujitsu / Oracle XSCF',
};

// Passwords are typed at the system's own prompts (echo off), never on a command line. ASCII only:
// these consoles convert to EBCDIC or fixed code pages where a non-ASCII character may not survive.
const POLICIES: Record<ServiceProcessorType, PolicyInput> = {
  // QPWDLVL 2 and 3 take up to 128 case-sensitive characters. A system still at QPWDLVL 0/1
  // (10 characters, A-Z 0-9 $ # @ _) needs a resource policy: length 10, minLower 0, symbols "$#@_".
  as400: { length: 24, maxLength: 128, allowUnicode: false },
  // ALOM takes 6 to 8 characters.
  alom: { length: 8, minLength: 6, maxLength: 8, allowUnicode: false },
  // ILOM takes 8 to 16 characters, anything but a colon or a space.
  ilom: { length: 16, minLength: 8, maxLength: 16, allowUnicode: false, forbidden: ': ' },
  // XSCF documents a minimum (6, its PAM policy) but no maximum we could find; 32 is a cautious bound.
  xscf: { length: 24, minLength: 6, maxLength: 32, allowUnicode: false },
};

// Each system's documented user-name syntax; none admits whitespace or shell punctuation.
const USERNAMES: Record<ServiceProcessorType, z.ZodType<string>> = {
  as400: z.string().regex(/^[A-Za-z$#@][A-Za-z0-9$#@_]{0,9}$/, 'must be an IBM i user profile name: A-Z, $, # or @, then A-Z, 0-9, $, #, @ or _ (at most 10)'),
  alom: z.string().regex(/^[A-Za-z][A-Za-z0-9._-]{0,15}$/, 'must be an ALOM user name: a letter, then letters, digits, ".", "_" or "-" (at most 16)'),
  ilom: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{3,15}$/, 'must be an ILOM user name: a letter, then letters, digits, "_" or "-" (4 to 16)'),
  xscf: z.string().regex(/^[A-Za-z][A-Za-z0-9._-]{0,30}$/, 'must be an XSCF user name: a letter, then letters, digits, ".", "_" or "-" (at most 31)'),
};

const CHANGED_BY: Record<ServiceProcessorType, string> = {
  as400: 'SSH or TN5250 as the account; `CHGPWD`, the current and new passwords typed at its prompts',
  alom: 'SSH or Telnet as the account; `password`, the current and new passwords typed at its prompts',
  ilom: 'SSH or Telnet as the account; `set /SP/users/NAME password`, the new password typed at its prompts',
  xscf: 'SSH or Telnet as the account; `password`, the new password typed at its prompts',
};

export function serviceProcessorDefinition<T extends ServiceProcessorType>(type: T) {
  return defineType({
    type,
    title: TITLES[type],
    schema: serviceProcessorSchema(type),
    defaultPort: 22,
    ports: (r) => tcp(r.port),
    defaultPorts: tcp(22, 23),
    policy: POLICIES[type],
    username: USERNAMES[type],
    // The accounts of the resource log in themselves; the configuration names none.
    references: () => [],
    onPremises: true,
    verification: 'login',
    implementation: 'not yet',
    changedBy: CHANGED_BY[type],
    verifiedBy: 'a fresh SSH or Telnet login as the account',
  });
}
