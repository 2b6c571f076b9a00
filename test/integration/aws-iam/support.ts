// A private moto (IAM and STS) for the aws-iam tests, with request authentication on: access keys
// must exist, signatures must match, and each caller's IAM policy is evaluated, as AWS does. The
// shared test moto runs without authentication (other suites sign with made-up keys), so the
// aws-iam tests start their own (harness/support/moto-process.ts) and turn it on through moto's
// `POST /moto-api/reset-auth` (its body: the number of requests still let through unauthenticated).
//
// moto's limits, checked in its source (moto/iam/models.py, moto/sts/models.py) and by trying:
// it stores the login profile's password as given (shown by `/moto-api/data.json`, which this
// file reads to see what was set), does not enforce the account password policy, and does not
// check a role's trust policy conditions (`sts:ExternalId`) on AssumeRole.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { startMoto } from '../../../harness/support/moto-process.js';

export const MOTO_ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

/**
 * The README's least-privilege policy for the admin: the three calls a reset makes and nothing
 * else. moto evaluates a policy's actions but matches IAM requests against the resource "*" only
 * (a statement on `arn:aws:iam::…:user/*` is denied there: tried), so the users' path the README
 * names is "*" here; what this proves is that these actions, and no others, suffice.
 */
export const LEAST_PRIVILEGE_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['iam:GetLoginProfile', 'iam:UpdateLoginProfile'], Resource: '*' },
    { Effect: 'Allow', Action: 'iam:GetAccountPasswordPolicy', Resource: '*' },
  ],
};

export interface KeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export function motoUnavailable(): string | undefined {
  const probe = spawnSync('moto_server', ['-h'], { stdio: 'ignore' });
  return probe.error || probe.status !== 0 ? 'moto_server is not installed (bash test/servers/setup.sh install)' : undefined;
}

export interface IamMoto {
  readonly endpoint: string;
  readonly host: string;
  readonly port: number;
  /** A client with every right (an administrator the tests set things up with). */
  readonly root: IAMClient;
  /** A user with the least-privilege policy and an access key: the product's admin by key pair. */
  readonly admin: { readonly username: string; readonly key: KeyPair };
  /** A user allowed only sts:AssumeRole on `roleArn`: what the function's own role is. */
  readonly caller: { readonly username: string; readonly key: KeyPair };
  /** A role with the least-privilege policy, trusted by the account. */
  readonly roleArn: string;
  /** The console password moto holds for a user (undefined: no login profile, or no user). */
  storedPassword(username: string): Promise<string | undefined>;
  /** Whether moto holds a login profile for the user. */
  hasLoginProfile(username: string): Promise<boolean>;
  /** A new user with this console password; returns its name. */
  createUser(password: string | undefined, name?: string): Promise<string>;
  stop(): Promise<void>;
}

interface MotoUser {
  readonly name: string;
  readonly password: string | null;
}

export async function startIamMoto(): Promise<IamMoto> {
  const moto = await startMoto();
  const url = new URL(moto.endpoint);
  const anyone = new IAMClient({ endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: 'AKIASETUPSETUPSETUP0', secretAccessKey: 'setup' } });
  const keyOf = async (client: IAMClient, username: string): Promise<KeyPair> => {
    const k = (await client.send(new CreateAccessKeyCommand({ UserName: username }))).AccessKey!;
    return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  };
  // Before authentication is on: the root user the tests act as.
  await anyone.send(new CreateUserCommand({ UserName: 'rpr-test-root' }));
  await anyone.send(new PutUserPolicyCommand({ UserName: 'rpr-test-root', PolicyName: 'all', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }) }));
  const rootKey = await keyOf(anyone, 'rpr-test-root');
  anyone.destroy();
  const answer = await fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
  if (!answer.ok) throw new Error(`moto refused to turn authentication on: ${answer.status} ${await answer.text()}`);
  const root = new IAMClient({ endpoint: moto.endpoint, region: REGION, credentials: rootKey });

  await root.send(new CreateUserCommand({ UserName: 'rpr-admin' }));
  await root.send(new PutUserPolicyCommand({ UserName: 'rpr-admin', PolicyName: 'rpr-password-admin', PolicyDocument: JSON.stringify(LEAST_PRIVILEGE_POLICY) }));
  const adminKey = await keyOf(root, 'rpr-admin');

  await root.send(new CreateRoleCommand({
    RoleName: 'password-admin',
    Path: '/rpr/',
    AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT}:root` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'rpr-external-id' } } }] }),
  }));
  await root.send(new PutRolePolicyCommand({ RoleName: 'password-admin', PolicyName: 'rpr-password-admin', PolicyDocument: JSON.stringify(LEAST_PRIVILEGE_POLICY) }));
  const roleArn = `arn:aws:iam::${MOTO_ACCOUNT}:role/rpr/password-admin`;

  await root.send(new CreateUserCommand({ UserName: 'rpr-function' }));
  await root.send(new PutUserPolicyCommand({ UserName: 'rpr-function', PolicyName: 'assume', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${MOTO_ACCOUNT}:role/rpr/*` }] }) }));
  const callerKey = await keyOf(root, 'rpr-function');

  const users = async (): Promise<MotoUser[]> => {
    const data = (await (await fetch(`${moto.endpoint}/moto-api/data.json`)).json()) as { iam?: { User?: MotoUser[] } };
    return data.iam?.User ?? [];
  };
  return {
    endpoint: moto.endpoint,
    host: url.hostname,
    port: Number(url.port),
    root,
    admin: { username: 'rpr-admin', key: adminKey },
    caller: { username: 'rpr-function', key: callerKey },
    roleArn,
    async storedPassword(username) {
      return (await users()).find((u) => u.name === username)?.password ?? undefined;
    },
    async hasLoginProfile(username) {
      const user = (await users()).find((u) => u.name === username);
      return user !== undefined && user.password !== null;
    },
    async createUser(password, name = `rpr-${randomBytes(5).toString('hex')}`) {
      await root.send(new CreateUserCommand({ UserName: name }));
      if (password !== undefined) await root.send(new CreateLoginProfileCommand({ UserName: name, Password: password }));
      return name;
    },
    async stop() {
      root.destroy();
      await moto.stop();
    },
  };
}
