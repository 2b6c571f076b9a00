import type { Command } from 'commander';
import { InvalidConfigurationError, TargetUnchangedError } from '../layers/engine/errors.js';
import type { HostKeyRecord, StateStore, StoredResource } from '../layers/engine/stores/types.js';
import type { CommandContext } from './context.js';

const PRESENTED_TIMEOUT_MS = 15_000;

/**
 * `rpr resource trust-host-key ID`: an operator accepts the SSH host key a resource presents now
 * (or, with `--sha256`, a fingerprint obtained out of band), after a reset refused a changed one.
 * The key is read from the key exchange alone: no login is made and no credential is read.
 */
export function registerTrustCommand(program: Command, ctx: CommandContext): void {
  const resource = program.commands.find((c) => c.name() === 'resource') ?? program.command('resource');
  resource
    .command('trust-host-key <id>')
    .description("accept the SSH host key the resource presents now (prints the recorded and the presented fingerprints), or --sha256 FP; resets then refuse any other key")
    .option('--sha256 <fingerprint>', 'record this fingerprint (as "ssh-keygen -lf" prints it, "SHA256:" optional) instead of asking the server')
    .action(async (id: string, o: { sha256?: string }) => {
      const given = o.sha256 === undefined ? undefined : parseFingerprint(o.sha256);
      const { state } = await ctx.openStores();
      const r = await sshResource(state, id);
      const where = `${String(r.host)}:${String(r.port)}`;
      const previous = await state.getHostKey(id);
      const presented = given ? { sha256: given } : await (await import('../layers/expect/ssh.js')).presentedHostKey({ host: String(r.host), port: Number(r.port), timeoutMs: PRESENTED_TIMEOUT_MS });
      const changed = previous?.sha256 !== presented.sha256;
      let recorded: HostKeyRecord | undefined = previous;
      if (changed) {
        const wanted: HostKeyRecord = {
          resourceId: id,
          sha256: presented.sha256,
          ...('keyType' in presented && presented.keyType ? { keyType: presented.keyType } : {}),
          ...(given ? {} : { seenAt: where }),
          source: 'operator',
          recordedAt: new Date().toISOString(),
          ...(previous ? { replaced: previous.sha256 } : {}),
        };
        recorded = await state.recordHostKey(wanted, previous?.sha256);
        if (recorded.sha256 !== wanted.sha256) {
          throw new TargetUnchangedError(`the host key recorded for resource "${id}" changed meanwhile to SHA256:${recorded.sha256}; nothing was recorded: run the command again`);
        }
      }
      const human = [
        `resource ${id} (${where})`,
        `  recorded:  ${previous ? describeHostKey(previous) : '(none)'}`,
        `  ${given ? 'given:    ' : 'presented:'} SHA256:${presented.sha256}${'keyType' in presented && presented.keyType ? ` (${presented.keyType})` : ''}`,
        changed ? `accepted SHA256:${presented.sha256}: resets now log in only to a host presenting it` : 'already trusted; nothing changed',
      ].join('\n');
      ctx.out(human, { resourceId: id, host: r.host, port: r.port, previous: previous ?? null, presented, changed, recorded });
    });
}

/** A resource this command applies to: one reached over SSH whose configuration pins no key. */
async function sshResource(state: StateStore, id: string): Promise<StoredResource> {
  const r = await state.getResource(id);
  if (!r) throw new InvalidConfigurationError('id', `resource "${id}" does not exist`);
  if (r.protocol === 'telnet') throw new InvalidConfigurationError('protocol', `resource "${id}" uses Telnet, which has no host key to trust (the host cannot be told from an impostor)`);
  if (r.protocol !== 'ssh' && r.transport !== 'ssh') throw new InvalidConfigurationError('type', `resource "${id}" (${r.type}) does not connect over SSH`);
  if (typeof r.hostKeySha256 === 'string') {
    throw new InvalidConfigurationError('hostKeySha256', `resource "${id}" pins SHA256:${r.hostKeySha256} in its configuration, which wins over a recorded key; change it with "rpr resource update ${id} --set hostKeySha256=..."`);
  }
  return r;
}

/** base64 SHA-256 without padding; "SHA256:" and "=" are accepted, as ssh-keygen and ssh print them. */
export function parseFingerprint(text: string): string {
  const fp = text.trim().replace(/^SHA256:/, '').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]{43}$/.test(fp)) throw new InvalidConfigurationError('--sha256', 'must be a SHA-256 fingerprint as "ssh-keygen -lf" prints it (SHA256: and 43 base64 characters)');
  return fp;
}

/** A recorded host key in one line, for people. */
export function describeHostKey(k: HostKeyRecord): string {
  const how = k.source === 'operator' ? 'accepted by an operator' : 'recorded on first use';
  return `SHA256:${k.sha256}${k.keyType ? ` (${k.keyType})` : ''}, ${how} ${k.recordedAt}`;
}
