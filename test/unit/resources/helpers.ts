import { expect } from 'vitest';
import { InvalidConfigurationError } from '../../../layers/engine/errors.js';
import { parseAccount, parseResource } from '../../../layers/resources/registry.js';
import type { GroupTask } from '../../../layers/workflow/events.js';
import { chainBySharedTarget } from '../../../layers/workflow/plan.js';

/** Runs `act` and returns the InvalidConfigurationError it throws; fails the test on anything else. */
export function configurationError(act: () => unknown): InvalidConfigurationError {
  try {
    act();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    return e as InvalidConfigurationError;
  }
  throw new Error('expected an InvalidConfigurationError, but nothing was thrown');
}

/** The field an invalid resource configuration is refused for. */
export function refusedField(input: Record<string, unknown>): string {
  return configurationError(() => parseResource(input)).field;
}

/** Whether the type takes the user name for one of its accounts. */
export function takesUsername(type: string, username: string): boolean {
  try {
    parseAccount({ resourceId: 'r1', username, secretId: 'rpr/r1/x' }, type);
    return true;
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidConfigurationError);
    expect((e as InvalidConfigurationError).field).toBe('username');
    return false;
  }
}

/**
 * How the workflow's plan runs one group per resource (chainBySharedTarget, the registry's
 * descriptors): each lane as the resource ids it runs one after another.
 */
export function lanesOf(resources: readonly Record<string, unknown>[]): string[][] {
  const parsed = new Map(resources.map((r) => [String(r.id), parseResource(r) as unknown as Record<string, unknown>]));
  const tasks = resources.map((r): GroupTask => ({ runId: 'run-x', resourceId: String(r.id), type: r.type as GroupTask['type'], site: 'cloud', accountIds: [`${String(r.id)}/u`] }));
  return chainBySharedTarget(tasks, (id) => parsed.get(id)).map((t) => [t.resourceId, ...(t.chain ?? []).map((c) => c.resourceId)]);
}

export const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

/** User names that would be injection on a command line, in SQL or in a filter; no type takes them. */
export const HOSTILE_USERNAMES = ['root; rm -rf /', '$(id)', '`id`', 'a\nb', 'a\rb', 'a\u0000b', 'a|b', 'a&&b'];
