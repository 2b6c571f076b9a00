import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeServer } from '../../../harness/servers/index.js';
import { motoSecretsManager } from './clients.js';

/**
 * The staging-label behaviour SecretsManagerStore relies on, checked against moto directly,
 * with moto's known departures from AWS's documented behaviour pinned down so a moto upgrade
 * that changes them is noticed.
 */
describeServer('moto', "Secrets Manager staging labels (moto's behaviour)", ({ endpoint }) => {
  let client: SecretsManagerClient;
  beforeAll(() => {
    client = motoSecretsManager(endpoint);
  });
  afterAll(() => client.destroy());

  const newSecret = async () => {
    const created = await client.send(new CreateSecretCommand({ Name: `rpr-staging/${randomUUID()}`, SecretString: 'first' }));
    return { arn: created.ARN!, first: created.VersionId! };
  };
  const stagesOf = async (arn: string, includeDeprecated = false) => {
    const { Versions = [] } = await client.send(new ListSecretVersionIdsCommand({ SecretId: arn, IncludeDeprecated: includeDeprecated }));
    return Object.fromEntries(Versions.map((v) => [v.VersionId!, [...(v.VersionStages ?? [])].sort()]));
  };

  it('PutSecretValue with VersionStages [AWSPENDING] labels only the new version; a later one takes the label', async () => {
    const { arn, first } = await newSecret();
    const a = randomUUID();
    const b = randomUUID();

    await client.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: a, SecretString: 'a', VersionStages: ['AWSPENDING'] }));
    expect(await stagesOf(arn)).toMatchObject({ [first]: ['AWSCURRENT'], [a]: ['AWSPENDING'] });
    await client.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: b, SecretString: 'b', VersionStages: ['AWSPENDING'] }));

    const described = await client.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(described.VersionIdsToStages?.[b]).toEqual(['AWSPENDING']);
    expect(described.VersionIdsToStages?.[a] ?? []).toEqual([]);
    const pending = await client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPENDING' }));
    expect(pending).toMatchObject({ VersionId: b, SecretString: 'b' });
  });

  it('UpdateSecretVersionStage moves AWSCURRENT with MoveToVersionId/RemoveFromVersionId and puts AWSPREVIOUS on the old version', async () => {
    const { arn, first } = await newSecret();
    const token = randomUUID();
    await client.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretString: 'second', VersionStages: ['AWSPENDING'] }));

    await client.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: first }));
    expect(await stagesOf(arn)).toEqual({ [first]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT', 'AWSPENDING'] });
    await client.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: token }));

    expect(await stagesOf(arn)).toEqual({ [first]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
    expect(await client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPREVIOUS' }))).toMatchObject({ VersionId: first, SecretString: 'first' });
  });

  it('removing a label the version does not hold is an InvalidParameterException', async () => {
    const { arn, first } = await newSecret();

    await expect(
      client.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: first })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('differs from AWS: a repeated token with a different value overwrites the version (AWS: ResourceExistsException)', async () => {
    const { arn } = await newSecret();
    const token = randomUUID();
    await client.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretString: 'kept', VersionStages: ['AWSPENDING'] }));

    await client.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretString: 'overwritten', VersionStages: ['AWSPENDING'] }));

    const stored = await client.send(new GetSecretValueCommand({ SecretId: arn, VersionId: token }));
    expect(stored.SecretString).toBe('overwritten');
  });

  it('differs from AWS: ListSecretVersionIds includes unlabelled versions without IncludeDeprecated', async () => {
    const { arn, first } = await newSecret();
    const [v2, v3] = [randomUUID(), randomUUID()];
    for (const [token, previous] of [[v2, first], [v3, v2]] as const) {
      await client.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretString: token }));
      expect((await stagesOf(arn))[token]).toEqual(['AWSCURRENT']);
      expect((await stagesOf(arn))[previous]).toEqual(['AWSPREVIOUS']);
    }

    expect(await stagesOf(arn)).toEqual({ [first]: [], [v2]: ['AWSPREVIOUS'], [v3]: ['AWSCURRENT'] });
  });

  it('differs from AWS: moving AWSCURRENT onto the version that holds it strips AWSPREVIOUS from the previous version', async () => {
    const { arn, first } = await newSecret();
    const token = randomUUID();
    await client.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretString: 'second' }));
    expect(await stagesOf(arn)).toEqual({ [first]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });

    await client.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: token }));

    expect(await stagesOf(arn)).toEqual({ [first]: [], [token]: ['AWSCURRENT'] });
  });

  it('differs from AWS: ListSecretVersionIds of a missing secret is a server error, not ResourceNotFoundException', async () => {
    const e = await client.send(new ListSecretVersionIdsCommand({ SecretId: `rpr-staging/missing-${randomUUID()}` })).catch((x: unknown) => x);

    expect(e).toBeInstanceOf(Error);
    expect((e as Error).name).not.toBe('ResourceNotFoundException');
  });
});
