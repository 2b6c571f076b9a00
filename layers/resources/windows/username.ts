import { z } from 'zod';

/**
 * Characters Windows refuses in account names (sAMAccountName and local SAM names),
 * plus those that PowerShell or an LDAP filter would read as syntax: `( ) $ ' \` % & !`.
 * Microsoft's own list is `" / \ [ ] : ; | = , + * ? < > @`; the extra ones are vanishingly
 * rare in real account names and refusing them keeps every name inert wherever it goes.
 * A trailing "$" (computer and managed service accounts) is still taken.
 */
const REFUSED = `"/\\\\[\\]:;|=,+*?<>@()$'\`%&!`;
const NAME_CHAR = `[^\\u0000-\\u001f\\u007f${REFUSED}]`;

/** A name of at most 20 characters (the sAMAccountName and SAM limit), without leading or trailing spaces, not only dots. */
const NAME = new RegExp(`^(?! )(?!\\.+$)${NAME_CHAR}{0,19}[^\\u0000-\\u001f\\u007f ${REFUSED}]\\$?$`);

function nameRule(value: string): boolean {
  const bare = value.endsWith('$') ? value.slice(0, -1) : value;
  return bare.length >= 1 && value.length <= 20 && NAME.test(value);
}

const NAME_MESSAGE =
  'must be a Windows account name: at most 20 characters, no leading or trailing space, not only dots, and none of " / \\ [ ] : ; | = , + * ? < > @ ( ) $ \' ` % & ! (a trailing $ is allowed)';

/** A local account on a Windows host (its SAM name). */
export const windowsLocalUsername = z.string().refine(nameRule, NAME_MESSAGE);

const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A DNS name such as an Active Directory domain's ("corp.example.com"). */
export const dnsNameSchema = z.string().regex(DNS_NAME, 'must be a DNS name such as "corp.example.com"');

/** An Active Directory account: its sAMAccountName ("jdoe") or its user principal name ("jdoe@corp.example.com"). */
export const domainUsername = z.string().refine((u) => {
  const at = u.lastIndexOf('@');
  if (at < 0) return nameRule(u);
  const local = u.slice(0, at);
  // The UPN prefix follows the same character rules, but may be up to 64 characters.
  return local.length <= 64 && new RegExp(`^(?! )${NAME_CHAR}{0,63}[^\\u0000-\\u001f\\u007f ${REFUSED}]$`).test(local) && DNS_NAME.test(u.slice(at + 1));
}, `must be a sAMAccountName or a user principal name (name@domain); ${NAME_MESSAGE.replace('must be a Windows account name: ', '')}`);
