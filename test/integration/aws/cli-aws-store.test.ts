import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';
import { createStateTable } from '../../../layers/engine/stores/dynamo-schema.js';
import { describeServer } from '../../../harness/servers/index.js';

describeServer('moto', 'rpr --store aws (DynamoDB and Secrets Manager on moto)', (moto) => {
  const table = `rpr-cli-${randomBytes(4).toString('hex')}`;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY };
  const rpr = async (args: string[], stdin = '') => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--store', 'aws', '--endpoint', moto.endpoint, '--region', 'us-east-1', '--table', table, ...args], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      readStdin: async () => stdin,
    });
    return { code, stdout, stderr };
  };

  beforeAll(async () => {
    // The SDK's credential chain: moto accepts any keys.
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    const client = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    await createStateTable(client, table);
    client.destroy();
  });
  afterAll(() => {
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.key === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.key;
  });

  it('configures a resource and an account: the account secret is created in Secrets Manager as AWSCURRENT', async () => {
    expect((await rpr(['resource', 'add', '--type', 'postgresql', '--id', 'db9', '--host', '127.0.0.1'])).code).toBe(EXIT.ok);
    const added = await rpr(['account', 'add', '--resource', 'db9', '--username', 'app', '--secret-id', `${table}/db9/app`, '--password-stdin'], 'Aws-start-pw-1\n');
    expect(added.code).toBe(EXIT.ok);

    const shown = await rpr(['--json', 'account', 'show', 'db9/app']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: 'db9/app', secretId: `${table}/db9/app`, versions: [{ stages: ['AWSCURRENT'] }] });
    expect(shown.stdout + added.stdout).not.toContain('Aws-start-pw-1');
    expect(JSON.parse((await rpr(['--json', 'resource', 'list'])).stdout)).toMatchObject([{ id: 'db9', type: 'postgresql', port: 5432 }]);
    // The tags the deployment's IAM conditions read: managed by rpr, the account, and the site whose agent may use it.
    const sm = new SecretsManagerClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    const { Tags } = await sm.send(new DescribeSecretCommand({ SecretId: `${table}/db9/app` }));
    sm.destroy();
    expect(Object.fromEntries((Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual({ 'rpr:managed': 'true', 'rpr:account': 'db9/app', 'rpr:site': 'cloud' });
  });

  it('stores a standalone secret tagged as managed, so the functions may read it, and a resource may then name it', async () => {
    const id = `${table}/aws1/admin-key`;
    const put = await rpr(['secret', 'put', id], '{"accessKeyId":"AKIAEXAMPLE","secretAccessKey":"wJalrXUtnFEMI/K7MDENG"}\n');
    expect(put.code, put.stderr).toBe(EXIT.ok);
    expect(put.stdout).not.toContain('wJalrXUtnFEMI');
    const sm = new SecretsManagerClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    const { Tags } = await sm.send(new DescribeSecretCommand({ SecretId: id }));
    sm.destroy();
    expect(Object.fromEntries((Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual({ 'rpr:managed': 'true', 'rpr:secret': id });
    expect((await rpr(['resource', 'add', '--type', 'aws-iam', '--id', 'aws1', '--set', `credentialsSecretId=${id}`])).code).toBe(EXIT.ok);
    const missing = await rpr(['resource', 'add', '--type', 'aws-iam', '--id', 'aws2', '--set', `credentialsSecretId=${table}/absent`]);
    expect(missing.code).toBe(EXIT.badInput);
    expect(missing.stderr).toMatch(/credentialsSecretId/);
  });
});
