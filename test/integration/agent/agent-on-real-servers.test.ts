import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultAwsClients, type AwsClients } from '../../../cli/aws.js';
import { EXIT, runCli } from '../../../cli/program.js';
import { Secret } from '../../../layers/engine/secret.js';
import { groupResultSchema } from '../../../layers/workflow/events.js';
import { pgCreateRole, pgDropRole, pgPasswordWorks, uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer, repoRoot } from '../../../harness/servers/index.js';
import { ActivityStandIn } from '../../support/activity-standin.js';
import { captureOutput, findLeaks, scanTable } from '../../support/leaks.js';
import { engineOnMoto, type EngineHarness } from '../engine/support.js';

/**
 * `rpr agent` itself: it assumes the site's role (STS on moto), opens the AWS stores with those
 * credentials (DynamoDB and Secrets Manager on moto), polls a local stand-in for the activity
 * API, and resets accounts on the real PostgreSQL server. Fresh logins prove the reset.
 */
describeServer('moto', 'rpr agent on moto stores and a real PostgreSQL server', (moto) => {
  describeServer('postgresql', 'PostgreSQL at agent site dmz1', (pg) => {
    let h: EngineHarness;
    let standIn: ActivityStandIn;
    const roles: string[] = [];
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY };
    const ROLE_ARN = 'arn:aws:iam::123456789012:role/rpr-agent-dmz1';

    beforeAll(async () => {
      // The ambient credentials the agent assumes its site's role with: moto accepts any keys.
      process.env.AWS_ACCESS_KEY_ID = 'ambient-key';
      process.env.AWS_SECRET_ACCESS_KEY = 'ambient-secret';
      h = await engineOnMoto(moto.endpoint);
      standIn = await ActivityStandIn.start({ pollMs: 5_000 });
      const admin = uniqueName('agadm');
      await pgCreateRole(admin, 'Agent-adm-start-1', 'CREATEROLE');
      roles.push(admin);
      await h.config.putResource({ id: 'pg-dmz1', type: 'postgresql', site: 'dmz1', host: pg.host, port: pg.port, ssl: true, caCertificate: readFileSync(pg.caFile, 'utf8'), adminAccount: `pg-dmz1/${admin}` });
      await h.config.putAccount({ resourceId: 'pg-dmz1', username: admin, secretId: h.secretName(`pg-dmz1/${admin}`) }, { password: new Secret('Agent-adm-start-1') });
      for (let i = 0; i < 3; i++) {
        const r = uniqueName('agr');
        await pgCreateRole(r, `${r}-Start-1`);
        roles.push(r);
        await h.config.putAccount({ resourceId: 'pg-dmz1', username: r, secretId: h.secretName(`pg-dmz1/${r}`) }, { password: new Secret(`${r}-Start-1`) });
      }
    });
    afterAll(async () => {
      for (const r of roles) await pgDropRole(r).catch(() => undefined);
      await standIn?.close();
      await h?.close();
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.key === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.key;
    });

    it('serves a group task end to end with the assumed role; fresh logins take the new passwords; SIGTERM stops it cleanly', async () => {
      // Only the activity API goes to the stand-in; STS and the stores go to moto.
      const aws: AwsClients = { ...defaultAwsClients, activitySfn: (t) => defaultAwsClients.activitySfn({ ...t, endpoint: standIn.endpoint }) };
      let stdout = '';
      let stderr = '';
      const out = captureOutput();
      let code: number;
      let outcome;
      try {
        const agent = runCli(
          ['--store', 'aws', '--endpoint', moto.endpoint, '--region', 'us-east-1', '--table', h.tableName, 'agent', '--site', 'dmz1', '--activity-arn', standIn.activityArn, '--role-arn', ROLE_ARN, '--heartbeat-seconds', '1'],
          { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => '' },
          aws,
        );
        await standIn.untilPolling();
        outcome = await standIn.enqueue({ runId: 'run-agent-it-1', resourceId: 'pg-dmz1', type: 'postgresql', site: 'dmz1', accountIds: roles.map((r) => `pg-dmz1/${r}`) });
        await standIn.untilPolling();
        process.emit('SIGTERM');
        code = await agent;
      } finally {
        out.restore();
      }

      expect(code, stderr).toBe(EXIT.ok);
      expect(stdout).toMatch(/agent for site dmz1 stopped: 1 tasks, 1 done/);
      const result = groupResultSchema.parse((outcome as { output: unknown }).output);
      expect(result.results.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
      // The admin login went last, and every role logs in with its new password only.
      expect(result.results.at(-1)!.accountId).toBe(`pg-dmz1/${roles[0]}`);
      for (const r of roles) {
        const now = await h.current(h.secretName(`pg-dmz1/${r}`));
        expect(await pgPasswordWorks(r, now)).toBe(true);
        expect(await pgPasswordWorks(r, r === roles[0] ? 'Agent-adm-start-1' : `${r}-Start-1`)).toBe(false);
      }
      // Every call to the activity API was signed with the assumed role's keys, not the ambient ones.
      expect(standIn.accessKeyIds.length).toBeGreaterThan(0);
      expect(new Set(standIn.accessKeyIds).has('ambient-key')).toBe(false);
      expect((await h.results('run-agent-it-1')).length).toBe(4);

      const leaks = findLeaks(h.written, {
        'requests to the activity API': standIn.received.join('\n'),
        'responses of the activity API': standIn.sent.join('\n'),
        'agent logs': out.text(),
        'CLI output': stdout + stderr,
        'the state table': await scanTable(moto.endpoint, h.tableName),
      });
      expect(leaks).toEqual([]);
      // The engine's log goes to the CLI's standard error, never standard output.
      expect(stderr).toContain('task done');
      expect(stdout).not.toContain('task done');
    });

    it('one command starts it (npx tsx cli/bin.ts agent …) and SIGTERM while idle exits 0 within a second', async () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'cli/bin.ts', '--store', 'aws', '--endpoint', standIn.endpoint, '--region', 'us-east-1', '--table', h.tableName, 'agent', '--site', 'dmz1', '--activity-arn', standIn.activityArn],
        { cwd: repoRoot, env: { ...process.env, AWS_ACCESS_KEY_ID: 'ambient-key', AWS_SECRET_ACCESS_KEY: 'ambient-secret' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      await standIn.untilPolling(1, 30_000);

      const t0 = Date.now();
      child.kill('SIGTERM');
      const code = await exited;

      expect(code, output).toBe(0);
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(output).toContain('agent for site dmz1 stopped: 0 tasks');
    });
  });
});
