import { randomUUID } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A proxy in front of moto that throttles as AWS does: each group of operations has a
 * requests-per-second quota, kept by a token bucket (one second's worth of burst), and a request
 * beyond it is refused with what the service answers, HTTP 400 and `ThrottlingException`
 * ("Rate exceeded") in the JSON 1.1 protocol's error shape. Everything else goes to moto
 * unchanged. It counts requests and refusals per operation, and can refuse chosen requests on
 * demand (a throttle exactly where a test wants one).
 *
 * The quotas are Secrets Manager's, from "AWS Secrets Manager quotas" in the AWS Secrets Manager
 * User Guide (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html):
 * the write group is quoted from it; the page has since raised DescribeSecret to 40,000 a second
 * and GetSecretValue to 10,000 (What's New, 2025-03-04), and this proxy keeps the older,
 * stricter combined 10,000. DynamoDB (on-demand) and S3 are not throttled: at these rates they
 * are not what AWS would refuse.
 */

export interface QuotaGroup {
  readonly name: string;
  readonly perSecond: number;
  /** `secretsmanager.<Operation>` X-Amz-Target values' operations. */
  readonly operations: readonly string[];
}

export const SECRETS_MANAGER_QUOTAS: readonly QuotaGroup[] = [
  {
    name: 'writes',
    perSecond: 50,
    operations: ['PutSecretValue', 'RemoveRegionsFromReplication', 'ReplicateSecretToRegion', 'StopReplicationToReplica', 'UpdateSecret', 'UpdateSecretVersionStage'],
  },
  { name: 'reads', perSecond: 10_000, operations: ['DescribeSecret', 'GetSecretValue'] },
  { name: 'resource policies', perSecond: 50, operations: ['DeleteResourcePolicy', 'GetResourcePolicy', 'PutResourcePolicy', 'ValidateResourcePolicy'] },
  { name: 'restore', perSecond: 50, operations: ['RestoreSecret'] },
  { name: 'rotation', perSecond: 50, operations: ['RotateSecret', 'CancelRotateSecret'] },
  { name: 'tags', perSecond: 50, operations: ['TagResource', 'UntagResource'] },
  { name: 'batch reads', perSecond: 100, operations: ['BatchGetSecretValue'] },
  { name: 'create', perSecond: 50, operations: ['CreateSecret'] },
  { name: 'delete', perSecond: 50, operations: ['DeleteSecret'] },
  { name: 'version ids', perSecond: 50, operations: ['ListSecretVersionIds'] },
];

/** A token bucket: `perSecond` tokens a second, at most `perSecond` held. */
class Bucket {
  #tokens: number;
  #at = performance.now();
  constructor(private readonly perSecond: number) {
    this.#tokens = perSecond;
  }
  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.perSecond, this.#tokens + ((now - this.#at) / 1000) * this.perSecond);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }
}

export interface OperationCount {
  requests: number;
  throttled: number;
}

/** A request the proxy may be told to refuse: its operation and its JSON body. */
export type RefusalRule = (operation: string, body: Record<string, unknown>) => boolean;

export interface ThrottlingProxyOptions {
  /** moto's endpoint (http://host:port). */
  readonly upstream: string;
  /** Another moto for Secrets Manager's requests (a second process shares moto's load). Default: `upstream`. */
  readonly secretsManagerUpstream?: string;
  /** Default: Secrets Manager's documented quotas. Pass [] to throttle nothing but what `refuse` picks. */
  readonly quotas?: readonly QuotaGroup[];
}

export class ThrottlingProxy {
  readonly endpoint: string;
  /** Per operation (`secretsmanager.PutSecretValue`, `DynamoDB_20120810.PutItem`, `s3`), requests seen and refused. */
  readonly counts = new Map<string, OperationCount>();
  readonly #server: Server;
  readonly #upstream: URL;
  readonly #secretsManagerUpstream: URL;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });
  readonly #buckets = new Map<string, Bucket>();
  #quotaOf = new Map<string, string>();
  #refusals: { rule: RefusalRule; left: number }[] = [];
  /** Called for every request with its operation, when it arrived (performance.now) and whether it was refused. */
  onRequest?: (operation: string, at: number, refused: boolean) => void;

  private constructor(server: Server, options: ThrottlingProxyOptions) {
    this.#server = server;
    this.#upstream = new URL(options.upstream);
    this.#secretsManagerUpstream = new URL(options.secretsManagerUpstream ?? options.upstream);
    const quotas = options.quotas ?? SECRETS_MANAGER_QUOTAS;
    this.setQuotas(quotas);
    this.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(options: ThrottlingProxyOptions): Promise<ThrottlingProxy> {
    const handlers: ((req: IncomingMessage, res: ServerResponse) => void)[] = [];
    const server = createServer((req, res) => handlers[0]!(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new ThrottlingProxy(server, options);
    handlers.push((req, res) => void proxy.#handle(req, res));
    return proxy;
  }

  /** Replaces the quotas (fresh buckets, full). */
  setQuotas(quotas: readonly QuotaGroup[]): void {
    this.#buckets.clear();
    this.#quotaOf = new Map();
    for (const q of quotas) {
      this.#buckets.set(q.name, new Bucket(q.perSecond));
      for (const op of q.operations) this.#quotaOf.set(`secretsmanager.${op}`, q.name);
    }
  }

  /** Refuses the next `times` requests the rule picks with a ThrottlingException, whatever the quotas say. */
  refuse(rule: RefusalRule, times = Number.POSITIVE_INFINITY): void {
    this.#refusals.push({ rule, left: times });
  }

  /** Stops refusing what `refuse` asked for. */
  stopRefusing(): void {
    this.#refusals = [];
  }

  count(operation: string): OperationCount {
    return this.counts.get(operation) ?? { requests: 0, throttled: 0 };
  }

  /** Totals over the operations whose name matches. */
  total(match: RegExp): OperationCount {
    const total = { requests: 0, throttled: 0 };
    for (const [op, c] of this.counts) {
      if (!match.test(op)) continue;
      total.requests += c.requests;
      total.throttled += c.throttled;
    }
    return total;
  }

  resetCounts(): void {
    this.counts.clear();
  }

  async close(): Promise<void> {
    this.#agent.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const target = req.headers['x-amz-target'];
    const operation = typeof target === 'string' ? target : 's3';
    const count = this.counts.get(operation) ?? { requests: 0, throttled: 0 };
    this.counts.set(operation, count);
    count.requests++;
    const refused = this.#refused(operation, body) || !this.#admitted(operation);
    this.onRequest?.(operation, performance.now(), refused);
    if (refused) {
      count.throttled++;
      const payload = JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' });
      res.writeHead(400, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID(),
        'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/',
        'content-length': Buffer.byteLength(payload),
      });
      res.end(payload);
      return;
    }
    const to = operation.startsWith('secretsmanager.') ? this.#secretsManagerUpstream : this.#upstream;
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host }, agent: this.#agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${e.message}`);
    });
    upstream.end(body);
  }

  #admitted(operation: string): boolean {
    const quota = this.#quotaOf.get(operation);
    return quota === undefined || this.#buckets.get(quota)!.take();
  }

  #refused(operation: string, body: Buffer): boolean {
    if (this.#refusals.length === 0 || !operation.startsWith('secretsmanager.')) return false;
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      // not JSON: no rule can pick it
    }
    const name = operation.slice('secretsmanager.'.length);
    const hit = this.#refusals.find((r) => r.left > 0 && r.rule(name, parsed));
    if (!hit) return false;
    hit.left--;
    return true;
  }
}
