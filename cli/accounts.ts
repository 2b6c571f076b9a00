import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import { Secret } from '../layers/engine/secret.js';
import { collect, type CommandContext } from './context.js';
import { auditRow, table } from './format.js';
import { readImportFile } from './import.js';

/** The characters a secret id takes (stores/types.ts secretIdSchema). */
const SECRET_ID = /^[A-Za-z0-9/_+=.@:-]+$/;

/**
 * `rpr/<resource>/<username>`, valid for any user name: one with characters a secret id cannot
 * hold (a DN's commas and spaces) keeps its safe runs, joined by "-", and ends with 12 hex digits
 * of its SHA-256, so that two names never share a secret.
 */
export function defaultSecretId(resourceId: string, username: string): string {
  if (SECRET_ID.test(username)) return `rpr/${resourceId}/${username}`;
  const readable = username.replace(/[^A-Za-z0-9_+=.@:-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
  const tag = createHash('sha256').update(username, 'utf8').digest('hex').slice(0, 12);
  return `rpr/${resourceId}/${readable ? `${readable}-` : ''}${tag}`;
}

function parsePasswords(text: string, option: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // Never the parser's message: it may quote the text, which holds passwords.
    throw new InvalidConfigurationError(option, 'is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InvalidConfigurationError(option, 'must hold a JSON object of passwords by account id');
  return data as Record<string, unknown>;
}

/** Passwords by account id; each must be a non-empty string. */
function passwordMap(data: Record<string, unknown>): Map<string, Secret> {
  const out = new Map<string, Secret>();
  for (const [id, value] of Object.entries(data)) {
    if (typeof value !== 'string' || value.length === 0) throw new InvalidConfigurationError('passwords', `the password for "${id}" must be a non-empty string`);
    out.set(id, new Secret(value));
  }
  return out;
}

/** `rpr account …`: the accounts of a resource, each with the secret that holds its password. */
export function registerAccountCommands(program: Command, ctx: CommandContext): void {
  const account = program.command('account').description('add, list, show, update and remove accounts');
  account
    .command('add')
    .requiredOption('--resource <id>')
    .requiredOption('--username <name>', 'the user name on the target (a DN for LDAP)')
    .option('--id <id>', 'default: <resource>/<username>')
    .option('--secret-id <id>', 'the secret holding its password (default: rpr/<resource>/<username>, a name with other characters made safe and tagged with its hash)')
    .option('--password-stdin', "read the account's current password from standard input and create its secret")
    .option('--tag <tag>', 'repeatable', collect)
    .action(async (o: { resource: string; username: string; id?: string; secretId?: string; passwordStdin?: boolean; tag?: string[] }) => {
      const password = o.passwordStdin ? new Secret((await ctx.io.readStdin()).replace(/\r?\n$/, '')) : undefined;
      if (password && password.length === 0) throw new InvalidConfigurationError('--password-stdin', 'standard input was empty');
      const a = await (await ctx.configurator()).putAccount(
        { resourceId: o.resource, username: o.username, secretId: o.secretId ?? defaultSecretId(o.resource, o.username), ...(o.id ? { id: o.id } : {}), tags: o.tag ?? [] },
        { mustNotExist: true, ...(password ? { password } : {}) },
      );
      ctx.out(`added account ${a.id}`, a);
    });
  account
    .command('list')
    .option('--resource <id>')
    .action(async (o: { resource?: string }) => {
      const list = await (await ctx.openStores()).state.listAccounts(o.resource ? { resourceId: o.resource } : {});
      ctx.out(table(list.map((a) => ({ id: a.id, resource: a.resourceId, username: a.username, secretId: a.secretId, tags: a.tags }))), list);
    });
  account.command('show <id>').action(async (id: string) => {
    const s = await ctx.openStores();
    const a = await s.state.getAccount(id);
    if (!a) throw new InvalidConfigurationError('id', `account "${id}" does not exist`);
    const versions = await s.credentials.listVersions(a.secretId).catch(() => []);
    const audit = await s.state.listAudit({ accountId: id, limit: 10 });
    ctx.out(`${JSON.stringify(a, null, 2)}\n\nsecret versions:\n${table(versions.map((v) => ({ version: v.versionId, stages: v.stages })))}\n\nrecent audit:\n${table(audit.map(auditRow))}`, { ...a, versions, audit });
  });
  account
    .command('update <id>')
    .option('--secret-id <id>')
    .option('--tag <tag>', 'replaces the tags; repeatable', collect)
    .action(async (id: string, o: { secretId?: string; tag?: string[] }) => {
      const s = await ctx.openStores();
      const a = await s.state.getAccount(id);
      if (!a) throw new InvalidConfigurationError('id', `account "${id}" does not exist`);
      const updated = await (await ctx.configurator()).putAccount({ ...a, ...(o.secretId ? { secretId: o.secretId } : {}), ...(o.tag ? { tags: o.tag } : {}) });
      ctx.out(`updated account ${updated.id}`, updated);
    });
  account
    .command('import <file>')
    .description('import many accounts from CSV (header row: resourceId, username, and optionally id, secretId, tags) or JSON (array)')
    .option('--passwords <path>', 'a JSON object of the accounts\' current passwords by account id, creating their secrets')
    .option('--passwords-stdin', 'the same JSON object, read from standard input')
    .option('--skip-bad', 'import the good rows even if some are bad')
    .action(async (file: string, o: { passwords?: string; passwordsStdin?: boolean; skipBad?: boolean }) => {
      if (o.passwords && o.passwordsStdin) throw new InvalidConfigurationError('--passwords', 'give --passwords or --passwords-stdin, not both');
      const passwords = passwordMap(o.passwords ? parsePasswords(readFileSync(o.passwords, 'utf8'), '--passwords') : o.passwordsStdin ? parsePasswords(await ctx.io.readStdin(), '--passwords-stdin') : {});
      const rows = readImportFile(file).map((r) => {
        const { resourceId, username, secretId } = r.values;
        const derived = typeof resourceId === 'string' && typeof username === 'string' && secretId === undefined ? { secretId: defaultSecretId(resourceId, username) } : {};
        return { line: r.line, values: { tags: [], ...r.values, ...derived } };
      });
      const result = await (await ctx.configurator()).importAccounts(rows, passwords, o);
      for (const b of result.bad) ctx.io.stderr(`${file}:${b.line}: ${b.message}\n`);
      if (result.bad.length && !o.skipBad) {
        ctx.io.stderr(`nothing imported: ${result.bad.length} of ${rows.length} rows are bad (use --skip-bad to import the rest)\n`);
        ctx.setExit(ctx.exit.badInput);
      } else if (result.bad.length) ctx.setExit(ctx.exit.partial);
      ctx.out(`imported ${result.imported.length} of ${rows.length} accounts`, result);
    });
  account
    .command('remove <id>')
    .option('--delete-secret', 'also delete its secret')
    .action(async (id: string, o: { deleteSecret?: boolean }) => {
      await (await ctx.configurator()).removeAccount(id, o);
      ctx.out(`removed account ${id}`, { removed: id });
    });
}
