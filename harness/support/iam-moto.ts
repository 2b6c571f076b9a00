// A private moto (IAM and STS) for the aws-iam tests, with request authentication on: access keys
// must exist, signatures must match, and each caller's IAM policy is evaluated, as AWS does. The
// shared test moto runs without authentication (other suites sign with made-up keys), so the
// aws-iam tests start their own (harness/support/moto-process.ts) and turn it on through moto's
// `POST /moto-api/reset-auth` (its body: the number of requests still let through unauthenticated).
//
// moto's limits, checked in its source (moto/iam/models.py, moto/sts/models.py) and by trying:
// it stores the login profile's password as given (shown by `/moto-api/data.json`, which this
// file reads to see what was set) and does not enforce the account password policy. On AssumeRole
// it checks the role's trust policy (moto/iam/access_control.py): the principal only by exact ARN
// (an account's `:root` does not stand for its users there) and its conditions (`sts:ExternalId`).
// It matches identity policies' resources against "*" only.
import { spawnSync } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { startMoto } from './moto-process.js';

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

/**
 * The README's least-privilege policy for an admin that rotates access keys (`manages:
 * access-key`); `sts:GetCallerIdentity`, the proof, needs no permission.
 */
export const ACCESS_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['iam:ListAccessKeys', 'iam:CreateAccessKey', 'iam:UpdateAccessKey', 'iam:DeleteAccessKey', 'iam:GetAccessKeyLastUsed'], Resource: '*' }],
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
  /** A role with the least-privilege policy, trusting `caller` with the external id `rpr-external-id`. */
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
    AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT}:user/rpr-function` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'rpr-external-id' } } }] }),
  }));
  await root.send(new PutRolePolicyCommand({ RoleName: 'password-admin', PolicyName: 'rpr-password-admin', PolicyDocument: JSON.stringify(LEAST_PRIVILEGE_POLICY) }));
  const roleArn = `arn:aws:iam::${MOTO_ACCOUNT}:role/rpr/password-admin`;

  await root.send(new CreateUserCommand({ UserName: 'rpr-function' }));
  // The stack grants it on `role/rpr/*`; moto matches only "*" (see LEAST_PRIVILEGE_POLICY).
  await root.send(new PutUserPolicyCommand({ UserName: 'rpr-function', PolicyName: 'assume', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] }) }));
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

/** One request the recording proxy saw: what went on the wire. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The Query protocol's form parameters (`Action`, `UserName`, `Password`, ...). */
  readonly params: URLSearchParams;
}

/**
 * An HTTP proxy in front of moto that records every request and, on demand, answers one as AWS
 * does when it throttles (HTTP 400 `Throttling` "Rate exceeded" in the Query protocol's XML error
 * shape, IAM API Reference "Common Errors"; or 429 with `Retry-After`), or passes one to moto and
 * then drops the connection before the answer (a cut after the change was sent).
 */
export class RecordingProxy {
  /** Since the last `clear`. */
  readonly seen: SeenRequest[] = [];
  /** Since the start. */
  readonly all: SeenRequest[] = [];
  readonly #server: Server;
  #throttle: { action: string; left: number; status: number; code?: string; unless?: string }[] = [];
  #cut: { action: string; left: number }[] = [];
  readonly endpoint: string;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  static async start(upstream: string): Promise<RecordingProxy> {
    const to = new URL(upstream);
    // The handler needs the proxy, which needs the listening server.
    const self: { proxy?: RecordingProxy } = {};
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const params = new URLSearchParams(body.toString('utf8'));
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers }, params };
      self.proxy!.seen.push(seen);
      self.proxy!.all.push(seen);
      const action = params.get('Action') ?? '';
      const signedBy = /Credential=([A-Z0-9]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
      const throttle = self.proxy!.#take(self.proxy!.#throttle, action, (r) => r.unless === undefined || r.unless !== signedBy);
      if (throttle) {
        const code = throttle.code ?? (throttle.status === 503 ? 'ServiceUnavailable' : 'Throttling');
        const message = throttle.code ? 'The security token included in the request is invalid.' : 'Rate exceeded';
        const xml = `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`;
        res.writeHead(throttle.status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml), ...(!throttle.code && throttle.status !== 400 ? { 'retry-after': '1' } : {}) });
        res.end(xml);
        return;
      }
      const cut = self.proxy!.#take(self.proxy!.#cut, action);
      // The Host header is kept as the client signed it (SigV4 signs it).
      const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        if (cut) {
          // moto has acted on it; the client never hears.
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      up.on('error', (e) => res.destroy(e));
      up.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self.proxy = new RecordingProxy(server, (server.address() as AddressInfo).port);
    return self.proxy;
  }

  #take<T extends { action: string; left: number }>(list: T[], action: string, applies: (rule: T) => boolean = () => true): T | undefined {
    const rule = list.find((r) => r.action === action && r.left > 0 && applies(r));
    if (rule) rule.left--;
    return rule;
  }

  /** Answers the next `times` requests of `action` as throttled, without passing them on. */
  throttle(action: string, times: number, status: 400 | 429 | 503 = 400): void {
    this.#throttle.push({ action, left: times, status });
  }

  /**
   * Answers the next `times` requests of `action` as STS answers a key it does not know yet
   * (403 InvalidClientTokenId, STS API Reference "Common Errors"): what a new IAM access key meets
   * until IAM has propagated it. `unless`: requests signed with this access key id pass.
   */
  refuseKey(action: string, times: number, unless?: string): void {
    this.#throttle.push({ action, left: times, status: 403, code: 'InvalidClientTokenId', ...(unless ? { unless } : {}) });
  }

  /** Passes the next `times` requests of `action` to moto, then cuts the connection before the answer. */
  cutAfter(action: string, times = 1): void {
    this.#cut.push({ action, left: times });
  }

  actions(): string[] {
    return this.seen.map((r) => r.params.get('Action') ?? r.url);
  }

  clear(): void {
    this.seen.length = 0;
    this.#throttle = [];
    this.#cut = [];
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
