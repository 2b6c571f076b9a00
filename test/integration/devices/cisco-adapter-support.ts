/**
 * What the CatOS and PIX adapter tests share: a device adapter for a resource configuration as a
 * user writes it (parsed by the type's schema), with its logins as the engine would resolve them,
 * a trust-on-first-use host key store in memory.
 */
import type { Account } from '../../../layers/engine/account.js';
import type { AdapterFactory, Credential, HostKeyTrust, TargetAdapter } from '../../../layers/engine/adapter.js';
import { Log } from '../../../layers/engine/log.js';
import { resolvePolicy } from '../../../layers/engine/policy.js';
import { Redactor } from '../../../layers/engine/redact.js';
import { Secret } from '../../../layers/engine/secret.js';
import { definitionOf, parseResource } from '../../../layers/resources/registry.js';
import type { ResourceType } from '../../../layers/resources/common.js';

export function memoryHostKeys(): HostKeyTrust {
  let recorded: string | undefined;
  return {
    trusted: () => Promise.resolve(recorded),
    firstSeen: (sha256) => Promise.resolve((recorded ??= sha256)),
  };
}

export function account(resourceId: string, username: string): Account {
  return { id: `${resourceId}/${username}`, resourceId, username, secretId: `s/${resourceId}/${username}`, tags: [] };
}

export function credential(resourceId: string, username: string, password: string): Credential {
  return { accountId: `${resourceId}/${username}`, username, password: new Secret(password) };
}


export async function deviceAdapter(type: ResourceType, config: Record<string, unknown>, credentials: Record<string, Credential>, timeoutMs = 4_000): Promise<TargetAdapter> {
  const def = definitionOf(type);
  const factory = (await def.implementation.adapter()) as AdapterFactory<{ id: string }>;
  const resource = parseResource({ type, ...config }) as { id: string };
  const log = new Log({ level: 'SILENT' });
  return factory({
    resource,
    policy: resolvePolicy(def.policy, undefined),
    credentials,
    secrets: {},
    log,
    redactor: new Redactor(),
    timeoutMs,
    hostKeys: memoryHostKeys(),
  });
}
