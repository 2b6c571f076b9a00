import { expect } from 'vitest';
import { InvalidConfigurationError } from '../../../layers/engine/errors.js';
import { parseAccount, parseResource } from '../../../layers/resources/registry.js';

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

export const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

/** User names that would be injection on a command line, in SQL or in a filter; no type takes them. */
export const HOSTILE_USERNAMES = ['root; rm -rf /', '$(id)', '`id`', 'a\nb', 'a\rb', 'a\u0000b', 'a|b', 'a&&b'];
