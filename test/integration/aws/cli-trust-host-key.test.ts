import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../cli/program.js';
import { openAwsStores } from '../../../layers/engine/stores/aws.js';
import { createStateTable } from '../../../layers/engine/stores/dynamo-schema.js';
import { describeServer } from '../../../harness/servers/index.js';
import { authenticationAttempts, TestSshd } from '../unix/sshd.js';

const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };

describeServer('moto', 'rpr --store aws resource trust-host-key (DynamoDB on moto)', (moto) => {
  describeServer('ssh', 'against a real sshd', () => {
    const table = `rpr-trust-${randomBytes(4).toString('hex')}`;
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY };
    let sshd: TestSshd;
    const rpr = async (args: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(['--store', 'aws', '--endpoint', moto.endpoint, '--region', 'us-east-1', '--table', table, ...args], {
        stdout: (t) => void (stdout += t),
        stderr: (t) => void (stderr += t),
        readStdin: async () => '',
      });
      return { code, stdout, stderr };
    };
    const recorded = async (id: string) => {
      const stores = await openAwsStores({ tableName: table, endpoint: moto.endpoint, ...AWS });
      try {
        return await stores.state.getHostKey(id);
      } finally {
        await stores.close();
      }
    };

    beforeAll(async () => {
      process.env.AWS_ACCESS_KEY_ID = 'testing';
      process.env.AWS_SECRET_ACCESS_KEY = 'testing';
      const client = new DynamoDBClient({ endpoint: moto.endpoint, ...AWS });
      await createStateTable(client, table);
      client.destroy();
      sshd = await TestSshd.start();
    });
    afterAll(async () => {
      await sshd?.close();
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.key === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.key;
    });

    it('records the key the server presents, without logging in, then a given fingerprint in its place', async () => {
      const add = await rpr(['resource', 'add', '--type', 'linux', '--id', 'hkaws', '--host', '127.0.0.1', '--set', `port=${sshd.port}`, '--set', 'login.account=hkaws/ops']);
      expect(add.code, add.stderr).toBe(EXIT.ok);

      const trusted = await rpr(['--json', 'resource', 'trust-host-key', 'hkaws']);

      expect(trusted.code, trusted.stderr).toBe(EXIT.ok);
      expect(JSON.parse(trusted.stdout)).toMatchObject({ previous: null, presented: { sha256: sshd.hostKeySha256, keyType: 'ssh-ed25519' }, changed: true });
      expect(await recorded('hkaws')).toMatchObject({ sha256: sshd.hostKeySha256, keyType: 'ssh-ed25519', seenAt: `127.0.0.1:${sshd.port}`, source: 'operator' });
      const log = await sshd.log();
      expect(log).toMatch(/Connection from 127\.0\.0\.1/);
      expect(authenticationAttempts(log)).toEqual([]);

      const given = Buffer.alloc(32, 0x3c).toString('base64').replace(/=+$/, '');
      const replaced = await rpr(['--json', 'resource', 'trust-host-key', 'hkaws', '--sha256', given]);
      expect(replaced.code, replaced.stderr).toBe(EXIT.ok);
      expect(JSON.parse(replaced.stdout)).toMatchObject({ previous: { sha256: sshd.hostKeySha256 }, changed: true });
      expect(await recorded('hkaws')).toMatchObject({ sha256: given, source: 'operator', replaced: sshd.hostKeySha256 });
    });
  });
});
