import type { AdapterContext, Credential, HostKeyTrust } from '../../layers/engine/adapter.js';
import { Log } from '../../layers/engine/log.js';
import { Redactor } from '../../layers/engine/redact.js';
import type { Secret } from '../../layers/engine/secret.js';
import { policyOf } from '../../layers/resources/registry.js';

/**
 * The context the engine gives an adapter (see openResourceSession): the resource's effective
 * policy, a silent log, a redactor that knows every login's secrets and `secrets`, and SSH host
 * keys trusted on first use in memory (`hostKeys`: another record, shared or inspected by a test).
 */
export function adapterContext<C extends { type: string }>(
  resource: C,
  credentials: Record<string, Credential>,
  options: { secrets?: (string | Secret)[]; timeoutMs?: number; hostKeys?: HostKeyTrust } = {},
): AdapterContext<C> {
  const redactor = new Redactor(options.secrets ?? []);
  for (const c of Object.values(credentials)) redactor.add(c.password).add(c.privateKey);
  return {
    resource,
    policy: policyOf(resource),
    credentials,
    secrets: {},
    log: new Log({ level: 'SILENT', redactor }),
    redactor,
    timeoutMs: options.timeoutMs ?? 10_000,
    hostKeys: options.hostKeys ?? memoryHostKeys(),
  };
}

/** One resource's host key record in memory: the first key seen is kept; `recorded` shows it. */
export function memoryHostKeys(initial?: string): HostKeyTrust & { readonly recorded: string | undefined } {
  let recorded = initial;
  return {
    get recorded() {
      return recorded;
    },
    trusted: () => Promise.resolve(recorded),
    firstSeen: (sha256: string) => Promise.resolve((recorded ??= sha256)),
  };
}
