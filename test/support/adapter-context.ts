import type { AdapterContext, Credential } from '../../layers/engine/adapter.js';
import { Log } from '../../layers/engine/log.js';
import { Redactor } from '../../layers/engine/redact.js';
import type { Secret } from '../../layers/engine/secret.js';
import { policyOf } from '../../layers/resources/registry.js';

/**
 * The context the engine gives an adapter (see openResourceSession): the resource's effective
 * policy, a silent log, and a redactor that knows every login's secrets and `secrets`.
 */
export function adapterContext<C extends { type: string }>(
  resource: C,
  credentials: Record<string, Credential>,
  options: { secrets?: (string | Secret)[]; timeoutMs?: number } = {},
): AdapterContext<C> {
  const redactor = new Redactor(options.secrets ?? []);
  for (const c of Object.values(credentials)) redactor.add(c.password).add(c.privateKey);
  return { resource, policy: policyOf(resource), credentials, secrets: {}, log: new Log({ level: 'SILENT', redactor }), redactor, timeoutMs: options.timeoutMs ?? 10_000 };
}
