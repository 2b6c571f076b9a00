import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError } from '../../../layers/engine/errors.js';
import { clientConfig, secretsWriteRateFrom } from '../../../layers/workflow/environment.js';

describe("a function's settings from its environment", () => {
  it('RPR_SECRETS_WRITE_RATE: a positive number of writes a second, or unset for the default; anything else is refused by name', () => {
    expect(secretsWriteRateFrom({})).toBeUndefined();
    expect(secretsWriteRateFrom({ RPR_SECRETS_WRITE_RATE: '' })).toBeUndefined();
    expect(secretsWriteRateFrom({ RPR_SECRETS_WRITE_RATE: '20' })).toBe(20);
    expect(secretsWriteRateFrom({ RPR_SECRETS_WRITE_RATE: '2.5' })).toBe(2.5);
    for (const bad of ['0', '-1', 'lots', 'Infinity']) {
      expect(() => secretsWriteRateFrom({ RPR_SECRETS_WRITE_RATE: bad }), bad).toThrow(InvalidConfigurationError);
      expect(() => secretsWriteRateFrom({ RPR_SECRETS_WRITE_RATE: bad })).toThrow(/^RPR_SECRETS_WRITE_RATE: /);
    }
  });

  it("gives every AWS client the SDK's adaptive retry with room for a burst of throttles", () => {
    expect(clientConfig({ AWS_REGION: 'eu-west-1' })).toEqual({ region: 'eu-west-1', retryMode: 'adaptive', maxAttempts: 10 });
  });
});
