import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, DescribeSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isThrottlingError } from '@smithy/core/retry';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeServer } from '../../../harness/servers/index.js';
import { ThrottlingProxy } from '../../../harness/support/throttling-proxy.js';
import { MOTO_CREDENTIALS, MOTO_REGION } from './clients.js';

/**
 * The test support that stands for AWS's throttling: it must refuse as AWS does, so that what the
 * quota tests show of the product holds against AWS. Checked here with the SDK itself.
 */
describeServer('moto', 'the throttling proxy in front of moto', (moto) => {
  let proxy: ThrottlingProxy;
  let client: SecretsManagerClient;
  beforeAll(async () => {
    proxy = await ThrottlingProxy.start({ upstream: moto.endpoint });
    // One attempt a call, so that every refusal reaches the test.
    client = new SecretsManagerClient({ endpoint: proxy.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await proxy?.close();
  });

  it('admits a burst of 50 writes and refuses what follows within the second as AWS does: HTTP 400 ThrottlingException "Rate exceeded", which the SDK classes as throttling', async () => {
    const name = `rpr-proxy/${randomBytes(4).toString('hex')}`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'first' }));

    const errors: Error[] = [];
    const outcomes = await Promise.all(
      Array.from({ length: 70 }, (_, i) =>
        client.send(new PutSecretValueCommand({ SecretId: name, SecretString: `v${i}`, ClientRequestToken: `${randomBytes(16).toString('hex')}` })).then(
          () => 'ok',
          (e: Error & { $metadata?: { httpStatusCode?: number } }) => (errors.push(e), `${e.name} ${e.$metadata?.httpStatusCode} ${e.message}`),
        ),
      ),
    );

    const refused = outcomes.filter((o) => o !== 'ok');
    expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThanOrEqual(50);
    expect(outcomes.filter((o) => o === 'ok').length).toBeLessThan(60);
    expect(new Set(refused)).toEqual(new Set(['ThrottlingException 400 Rate exceeded']));
    expect(proxy.count('secretsmanager.PutSecretValue').throttled).toBe(refused.length);
    expect(errors.every((e) => isThrottlingError(e as Parameters<typeof isThrottlingError>[0]))).toBe(true);
  });

  it('lets reads through at their own, higher quota while writes are refused', async () => {
    const name = `rpr-proxy/${randomBytes(4).toString('hex')}`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'first' }));
    proxy.refuse((op) => op === 'PutSecretValue');
    try {
      const reads = await Promise.all(Array.from({ length: 100 }, () => client.send(new DescribeSecretCommand({ SecretId: name })).then(() => 'ok', (e: Error) => e.name)));
      const write = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'x' })).then(() => 'ok', (e: Error) => e.name);
      expect(reads.every((r) => r === 'ok')).toBe(true);
      expect(write).toBe('ThrottlingException');
    } finally {
      proxy.stopRefusing();
    }
  });

  it('refuses exactly the requests a rule picks, as many times as asked', async () => {
    const name = `rpr-proxy/${randomBytes(4).toString('hex')}`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'first' }));
    await new Promise((r) => setTimeout(r, 1100)); // a full bucket again
    proxy.refuse((op, body) => op === 'PutSecretValue' && body.SecretString === 'picked', 2);

    const tries = [];
    for (const value of ['picked', 'other', 'picked', 'picked']) {
      tries.push(await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value })).then(() => 'ok', (e: Error) => e.name));
    }

    expect(tries).toEqual(['ThrottlingException', 'ok', 'ThrottlingException', 'ok']);
  });
});
