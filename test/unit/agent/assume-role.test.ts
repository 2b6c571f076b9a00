import type { STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { activityClientConfig, POLL_REQUEST_TIMEOUT_MS } from '../../../layers/agent/agent.js';
import { assumeRoleCredentials } from '../../../cli/aws.js';

describe("the agent's credentials", () => {
  it('assumes the role once, reuses the keys, and renews them five minutes before they expire', async () => {
    let now = 0;
    const requests: Record<string, unknown>[] = [];
    const sts = {
      send: async (c: { input: Record<string, unknown> }) => {
        requests.push(c.input);
        return { Credentials: { AccessKeyId: `ASIA${requests.length}`, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(now + 3_600_000) } };
      },
    } as unknown as STSClient;
    const provider = assumeRoleCredentials({ sts, roleArn: 'arn:aws:iam::123456789012:role/rpr-agent-dmz1', sessionName: 'rpr-agent-dmz1', now: () => now });

    // Concurrent callers share one AssumeRole.
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(a.accessKeyId).toBe('ASIA1');
    expect(b.accessKeyId).toBe('ASIA1');
    now = 3_600_000 - 6 * 60_000;
    expect((await provider()).accessKeyId).toBe('ASIA1');
    now = 3_600_000 - 4 * 60_000;
    expect((await provider()).accessKeyId).toBe('ASIA2');
    expect(requests).toEqual([
      { RoleArn: 'arn:aws:iam::123456789012:role/rpr-agent-dmz1', RoleSessionName: 'rpr-agent-dmz1', DurationSeconds: 3600 },
      { RoleArn: 'arn:aws:iam::123456789012:role/rpr-agent-dmz1', RoleSessionName: 'rpr-agent-dmz1', DurationSeconds: 3600 },
    ]);
  });

  it('a failed renewal is retried on the next call, not cached', async () => {
    let fail = true;
    const sts = {
      send: async () => {
        if (fail) throw new Error('AccessDenied');
        return { Credentials: { AccessKeyId: 'ASIA', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3_600_000) } };
      },
    } as unknown as STSClient;
    const provider = assumeRoleCredentials({ sts, roleArn: 'arn:aws:iam::123456789012:role/r', sessionName: 'x' });
    await expect(provider()).rejects.toThrow('AccessDenied');
    fail = false;
    expect((await provider()).accessKeyId).toBe('ASIA');
  });

  it('the activity client waits longer than the 60 s long poll', () => {
    expect(POLL_REQUEST_TIMEOUT_MS).toBeGreaterThanOrEqual(65_000);
    expect(activityClientConfig({ region: 'eu-west-1' })).toMatchObject({ region: 'eu-west-1', requestHandler: { requestTimeout: POLL_REQUEST_TIMEOUT_MS } });
  });
});
