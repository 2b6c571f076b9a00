import type { Command } from 'commander';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import { RESOURCE_TYPES } from '../layers/resources/common.js';
import { definitionOf, isResourceType, RESOURCE_TYPE_DEFINITIONS } from '../layers/resources/registry.js';
import { collect, type CommandContext } from './context.js';
import { describeHostKey } from './trust.js';
import { table } from './format.js';
import { parseAssignment, readImportFile, readJsonFile, setPath } from './import.js';

/** Where a type names the account of `--admin` or `--login`: its descriptor's field (adminAccount for an admin unless it says otherwise). */
function accountFieldOf(type: unknown, option: '--admin' | '--login'): string {
  const def = typeof type === 'string' && isResourceType(type) ? definitionOf(type) : undefined;
  const field = option === '--admin' ? (def?.adminField ?? 'adminAccount') : def?.loginField;
  if (!field) throw new InvalidConfigurationError(option, `the type ${JSON.stringify(type)} names no login account of its own; use --admin`);
  return field;
}

/** `rpr resource …`: the resources rpr resets accounts on. */
export function registerResourceCommands(program: Command, ctx: CommandContext): void {
  const resource = program.command('resource').description('add, list, show, update, remove and import resources');
  resource
    .command('add')
    .description('add a resource: --type, --id, --host and --set field=value, or --file with its JSON')
    .option('--file <path>', 'the resource as a JSON object')
    .option('--type <type>', `resource type (${RESOURCE_TYPES.length} types; see "rpr types")`)
    .option('--id <id>')
    .option('--host <host>')
    .option('--port <port>', 'the port (the type\'s default unless given)')
    .option('--protocol <protocol>', 'ssh or telnet, for the types that take either')
    .option('--login <account id>', 'the account every session logs in as (login.account, or the field the type names)')
    .option('--admin <account id>', 'the account that resets the others (adminAccount, or the field the type names)')
    .option('--set <field=value>', 'a configuration field (dotted path; JSON values allowed); repeatable', collect)
    .option('--tag <tag>', 'repeatable', collect)
    .action(async (o: { file?: string; type?: string; id?: string; host?: string; port?: string; protocol?: string; login?: string; admin?: string; set?: string[]; tag?: string[] }) => {
      const input: Record<string, unknown> = o.file ? readJsonFile(o.file) : {};
      if (o.type) input.type = o.type;
      if (o.id) input.id = o.id;
      if (o.host) input.host = o.host;
      if (o.tag) input.tags = o.tag;
      if (o.port !== undefined) input.port = /^\d+$/.test(o.port) ? Number(o.port) : o.port;
      if (o.protocol) input.protocol = o.protocol;
      if (o.login) setPath(input, accountFieldOf(input.type, '--login'), o.login);
      if (o.admin) setPath(input, accountFieldOf(input.type, '--admin'), o.admin);
      for (const a of o.set ?? []) parseAssignment(a, input);
      const r = await (await ctx.configurator()).putResource(input, { mustNotExist: true });
      ctx.out(`added resource ${r.id} (${r.type})`, r);
    });
  resource
    .command('list')
    .option('--type <type>')
    .option('--tag <tag>')
    .option('--site <site>')
    .action(async (o: { type?: string; tag?: string; site?: string }) => {
      const list = await (await ctx.openStores()).state.listResources(o);
      ctx.out(table(list.map((r) => ({ id: r.id, type: r.type, host: r.host, port: r.port, site: r.site, tags: r.tags })), ['id', 'type', 'host', 'port', 'site', 'tags']), list);
    });
  resource
    .command('show <id>')
    .action(async (id: string) => {
      const s = await ctx.openStores();
      const r = await s.state.getResource(id);
      if (!r) throw new InvalidConfigurationError('id', `resource "${id}" does not exist`);
      const accounts = await s.state.listAccounts({ resourceId: id });
      const hostKey = await s.state.getHostKey(id);
      ctx.out(
        `${JSON.stringify(r, null, 2)}\n\n${hostKey ? `SSH host key: ${describeHostKey(hostKey)}\n\n` : ''}accounts:\n${table(accounts.map((a) => ({ id: a.id, username: a.username, secretId: a.secretId, tags: a.tags })))}`,
        { ...r, ...(hostKey ? { hostKey } : {}), accounts },
      );
    });
  resource
    .command('update <id>')
    .option('--file <path>', 'fields to change, as a JSON object')
    .option('--set <field=value>', 'repeatable', collect)
    .action(async (id: string, o: { file?: string; set?: string[] }) => {
      const changes: Record<string, unknown> = o.file ? readJsonFile(o.file) : {};
      for (const a of o.set ?? []) parseAssignment(a, changes);
      const r = await (await ctx.configurator()).updateResource(id, changes);
      ctx.out(`updated resource ${r.id}`, r);
    });
  resource
    .command('remove <id>')
    .option('--with-accounts', 'also remove its accounts (their secrets are kept)')
    .action(async (id: string, o: { withAccounts?: boolean }) => {
      await (await ctx.configurator()).removeResource(id, o);
      ctx.out(`removed resource ${id}`, { removed: id });
    });
  resource
    .command('import <file>')
    .description('import many resources from CSV (header row of field paths) or JSON (array), each merged over --config')
    .option('--config <path>', 'one configuration shared by every row (JSON object)')
    .option('--skip-bad', 'import the good rows even if some are bad')
    .action(async (file: string, o: { config?: string; skipBad?: boolean }) => {
      const rows = readImportFile(file);
      const result = await (await ctx.configurator()).importResources(rows, o.config ? readJsonFile(o.config) : {}, o);
      for (const b of result.bad) ctx.io.stderr(`${file}:${b.line}: ${b.message}\n`);
      if (result.bad.length && !o.skipBad) {
        ctx.io.stderr(`nothing imported: ${result.bad.length} of ${rows.length} rows are bad (use --skip-bad to import the rest)\n`);
        ctx.setExit(ctx.exit.badInput);
      } else if (result.bad.length) ctx.setExit(ctx.exit.partial);
      ctx.out(`imported ${result.imported.length} of ${rows.length} resources`, result);
    });
}

/** `rpr types`: what the registry knows and what this build can reset. */
export function registerTypesCommand(program: Command, ctx: CommandContext): void {
  program
    .command('types')
    .description('every resource type, its default port, how it is verified and what the test suite checks it against')
    .action(() => {
      const rows = Object.values(RESOURCE_TYPE_DEFINITIONS).map((d) => ({ type: d.type, title: d.title, port: d.defaultPort, verified: d.verification, tested: d.implementation.testedAgainst.kind }));
      ctx.out(table(rows), rows);
    });
}
