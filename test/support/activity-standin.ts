import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the Step Functions activity API: the four calls an agent makes, in the
 * AWS JSON 1.0 protocol (POST /, `X-Amz-Target: AWSStepFunctions.<Operation>`), so that a real
 * SFNClient pointed at it (endpoint + any credentials) is exercised. Tasks are queued with
 * {@link enqueue}; a waiting GetActivityTask is answered at once, like the service's long poll.
 */

export type TaskOutcome = { output: unknown; outputText: string } | { error: string; cause: string };

interface Task {
  token: string;
  input: string;
  settle: (o: TaskOutcome) => void;
  heartbeats: number;
  closed: boolean;
}

export class ActivityStandIn {
  readonly activityArn = 'arn:aws:states:us-east-1:123456789012:activity:rpr-site-standin';
  /** Every request body received and response body sent, in order, for the leak search. */
  readonly received: string[] = [];
  readonly sent: string[] = [];
  /** Operation names in the order they arrived. */
  readonly calls: string[] = [];
  heartbeats = 0;
  /** The access key id each request was signed with (from its SigV4 Authorization header). */
  readonly accessKeyIds: string[] = [];
  readonly #queue: Task[] = [];
  readonly #tasks = new Map<string, Task>();
  readonly #waiting: { res: ServerResponse; timer: NodeJS.Timeout }[] = [];

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
    private readonly pollMs: number,
  ) {}

  /** `pollMs`: how long GetActivityTask waits for a task before answering empty (the service: 60 s). */
  static async start(options: { pollMs?: number } = {}): Promise<ActivityStandIn> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const standIn = new ActivityStandIn(server, `http://127.0.0.1:${port}`, options.pollMs ?? 60_000);
    server.on('request', (req, res) => void standIn.#serve(req, res));
    return standIn;
  }

  /** Queues a task (an object is sent as JSON, a string as is) and resolves with how the worker ended it. */
  enqueue(input: unknown): Promise<TaskOutcome> {
    return new Promise((settle) => {
      const task: Task = { token: `token-${randomUUID()}`, input: typeof input === 'string' ? input : JSON.stringify(input), settle, heartbeats: 0, closed: false };
      this.#tasks.set(task.token, task);
      this.#queue.push(task);
      this.#dispatch();
    });
  }

  /** Polls currently held open by workers. */
  get waitingPolls(): number {
    return this.#waiting.length;
  }

  /** Resolves once `n` polls are held open (a worker is idle and listening). */
  async untilPolling(n = 1, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#waiting.length < n) {
      if (Date.now() > deadline) throw new Error(`no worker polled within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    for (const w of this.#waiting.splice(0)) {
      clearTimeout(w.timer);
      w.res.destroy();
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #dispatch(): void {
    while (this.#queue.length && this.#waiting.length) {
      const w = this.#waiting.shift()!;
      clearTimeout(w.timer);
      const task = this.#queue.shift()!;
      this.#reply(w.res, 200, { taskToken: task.token, input: task.input });
    }
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    this.received.push(text);
    const credential = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''));
    if (credential) this.accessKeyIds.push(credential[1]!);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : target;
    this.calls.push(operation);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text || '{}') as Record<string, unknown>;
    } catch {
      return this.#error(res, 'SerializationException', 'the body is not JSON');
    }
    const task = typeof body.taskToken === 'string' ? this.#tasks.get(body.taskToken) : undefined;
    switch (operation) {
      case 'GetActivityTask': {
        if (body.activityArn !== this.activityArn) return this.#error(res, 'ActivityDoesNotExist', `activity ${String(body.activityArn)} does not exist`);
        const waiter = { res, timer: setTimeout(() => this.#expire(waiter), this.pollMs) };
        // A worker that gives up its poll (abort, shutdown) must not be handed a task.
        res.on('close', () => {
          const i = this.#waiting.indexOf(waiter);
          if (i >= 0) {
            clearTimeout(waiter.timer);
            this.#waiting.splice(i, 1);
          }
        });
        this.#waiting.push(waiter);
        return this.#dispatch();
      }
      case 'SendTaskHeartbeat':
        if (!task) return this.#error(res, 'InvalidToken', 'unknown task token');
        if (task.closed) return this.#error(res, 'TaskTimedOut', 'the task is closed');
        this.heartbeats++;
        task.heartbeats++;
        return this.#reply(res, 200, {});
      case 'SendTaskSuccess':
      case 'SendTaskFailure': {
        if (!task) return this.#error(res, 'InvalidToken', 'unknown task token');
        if (task.closed) return this.#error(res, 'TaskTimedOut', 'the task is closed');
        task.closed = true;
        if (operation === 'SendTaskSuccess') {
          const outputText = String(body.output);
          task.settle({ output: JSON.parse(outputText) as unknown, outputText });
        } else task.settle({ error: String(body.error ?? ''), cause: String(body.cause ?? '') });
        return this.#reply(res, 200, {});
      }
      default:
        return this.#error(res, 'UnknownOperationException', `the stand-in does not serve ${operation || 'this request'}`);
    }
  }

  #expire(waiter: { res: ServerResponse; timer: NodeJS.Timeout }): void {
    const i = this.#waiting.indexOf(waiter);
    if (i < 0) return;
    this.#waiting.splice(i, 1);
    this.#reply(waiter.res, 200, {});
  }

  #reply(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    this.sent.push(text);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() }).end(text);
  }

  #error(res: ServerResponse, type: string, message: string): void {
    res.setHeader('x-amzn-errortype', type);
    this.#reply(res, 400, { __type: `com.amazonaws.swf.service.v2.model#${type}`, message });
  }
}
