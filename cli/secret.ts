import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InvalidConfigurationError } from '../layers/engine/errors.js';
import { Secret } from '../layers/engine/secret.js';
import type { CommandContext } from './context.js';

/**
 * `rpr secret put ID [--file PATH]`: stores a standalone secret that resources name by id (an
 * SSH private key, a service-account key file, a client secret), from standard input or a file,
 * on either store, tagged as rpr's so the deployment's functions may read it. Its value is never
 * printed.
 */
export function registerSecretCommands(program: Command, ctx: CommandContext): void {
  const secret = program.command('secret').description('store the standalone secrets resources name (keys, client secrets)');
  secret
    .command('put <id>')
    .description('create the secret, or put a new value as its AWSCURRENT; the value comes from standard input, or --file')
    .option('--file <path>', 'read the value from this file (kept byte for byte, a PEM key or a JSON key file)')
    .action(async (id: string, o: { file?: string }) => {
      const text = o.file !== undefined
        ? await readFile(o.file, 'utf8').catch((e: unknown) => {
            throw new InvalidConfigurationError('--file', `cannot be read: ${(e as Error).message}`, { cause: e });
          })
        : // Standard input typed or piped ends with a newline that is not part of the value.
          (await ctx.io.readStdin()).replace(/\r?\n$/, '');
      if (text.length === 0) throw new InvalidConfigurationError(o.file !== undefined ? '--file' : 'stdin', 'is empty');
      const { created } = await (await ctx.configurator()).putSecret(id, new Secret(text));
      ctx.out(`${created ? 'created' : 'updated'} secret ${id}`, { secretId: id, created });
    });
}
