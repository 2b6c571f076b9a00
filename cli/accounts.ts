import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import { Secret } from '../layers/engine/secret.js';
import { collect, type CommandContext } from './context.js';
import { auditRow, table } from './format.js';

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
    .command('remove <id>')
    .option('--delete-secret', 'also delete its secret')
    .action(async (id: string, o: { deleteSecret?: boolean }) => {
      await (await ctx.configurator()).removeAccount(id, o);
      ctx.out(`removed account ${id}`, { removed: id });
    });
}
