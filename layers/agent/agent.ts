import {
  GetActivityTaskCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  type SFNClientConfig,
} from '@aws-sdk/client-sfn';
import { errorClassOf, InvalidConfigurationError } from '../engine/errors.js';
import { Log } from '../engine/log.js';
import { runGroupTask, parseGroupTask, type GroupTaskDeps } from '../workflow/group.js';

/**
 * The agent: an outbound-only process at a site the cloud cannot reach. It long-polls its
 * site's Step Functions activity, runs each group task with the same engine and adapters as
 * the functions, and reports per-account outcomes (ids only). It opens no port.
 */

/** Step Functions holds GetActivityTask for up to 60 s; the client must wait longer than that. */
export const POLL_REQUEST_TIMEOUT_MS = 70_000;

/** An SFN client configuration whose requests outlive the 60 s long poll. */
export function activityClientConfig(config: SFNClientConfig = {}): SFNClientConfig {
  return { ...config, requestHandler: { requestTimeout: POLL_REQUEST_TIMEOUT_MS, connectionTimeout: 10_000 } };
}

/** The error a task gets when the agent stops before finishing it: the workflow may retry it elsewhere. */
export const AGENT_STOPPING = 'AgentStopping';

export interface AgentOptions {
  /** A client made with {@link activityClientConfig} (its request timeout above 60 s). */
  readonly sfn: SFNClient;
  readonly activityArn: string;
  /** Shown in the execution history; e.g. `<site>@<hostname>`. */
  readonly workerName: string;
  /** The engine and stores for a task; called once per task. */
  readonly engineFactory: () => GroupTaskDeps | Promise<GroupTaskDeps>;
  readonly log?: Log;
  /** Aborting stops polling and lets in-flight tasks finish for up to {@link stopGraceMs}. */
  readonly signal?: AbortSignal;
  /** Between heartbeats while a task runs; below the activity's heartbeat timeout. Default 20 s. */
  readonly heartbeatIntervalMs?: number;
  /** How long an in-flight task may still run once the agent is stopping. Default 30 s. */
  readonly stopGraceMs?: number;
  /** Tasks worked on at once (one poll loop each). Default 1. */
  readonly concurrency?: number;
  /** Wait after a failed poll (network, throttling) before polling again. Default 5 s. */
  readonly pollRetryMs?: number;
  /**
   * How long one task may run before it returns what is left as `next` for another task: below
   * the stack's agent task timeout (default 1 hour). Default 55 minutes.
   */
  readonly taskTimeLimitMs?: number;
}

export const DEFAULT_AGENT_TASK_TIME_LIMIT_MS = 55 * 60_000;

export interface AgentStats {
  tasks: number;
  succeeded: number;
  failed: number;
  stopped: number;
}

const CAUSE_MAX = 32_768;

/** Runs until `signal` aborts; resolves once every in-flight task has been reported or handed back. */
export async function runAgent(options: AgentOptions): Promise<AgentStats> {
  const log = options.log ?? new Log();
  const signal = options.signal ?? new AbortController().signal;
  const stats: AgentStats = { tasks: 0, succeeded: 0, failed: 0, stopped: 0 };
  const worker = new TaskWorker(options, log, signal, stats);
  log.info('agent started', { activityArn: options.activityArn, workerName: options.workerName });
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, () => worker.loop()));
  log.info('agent stopped', { ...stats });
  return stats;
}

class TaskWorker {
  constructor(
    private readonly o: AgentOptions,
    private readonly log: Log,
    private readonly signal: AbortSignal,
    private readonly stats: AgentStats,
  ) {}

  async loop(): Promise<void> {
    while (!this.signal.aborted) {
      let task: { taskToken?: string; input?: string };
      try {
        // Aborting the poll drops the connection at once. A task Step Functions handed out in that
        // instant is not lost: its heartbeat timeout expires and the workflow retries it.
        task = await this.o.sfn.send(new GetActivityTaskCommand({ activityArn: this.o.activityArn, workerName: this.o.workerName }), { abortSignal: this.signal });
      } catch (e) {
        if (this.signal.aborted) break;
        this.log.warn('polling the activity failed; retrying', { errorClass: errorClassOf(e), error: e instanceof Error ? e.message : String(e) });
        await sleep(this.o.pollRetryMs ?? 5_000, this.signal);
        continue;
      }
      if (!task.taskToken) continue; // the long poll ended without a task
      await this.handle(task.taskToken, task.input);
    }
  }

  async handle(token: string, input: string | undefined): Promise<void> {
    this.stats.tasks++;
    const heartbeat = this.#heartbeat(token);
    let report: { ok: true; output: string } | { ok: false; error: string; cause: string };
    let redact = (s: string) => s;
    try {
      const work = (async () => {
        const task = parseGroupTask(input);
        this.log.info('task received', { runId: task.runId, resourceId: task.resourceId, type: task.type, accounts: task.accountIds?.length ?? 'as selected' });
        const deps = await this.o.engineFactory();
        redact = (s) => deps.engine.log.redactor.redact(s);
        return runGroupTask(task, { ...deps, log: deps.log ?? this.log }, { deadline: Date.now() + (this.o.taskTimeLimitMs ?? DEFAULT_AGENT_TASK_TIME_LIMIT_MS) });
      })();
      const outcome = await this.#untilStopped(work);
      if (outcome === 'stopped') {
        work.catch(() => undefined); // still running; its accounts are under lease and reconciled by the retry
        this.stats.stopped++;
        report = { ok: false, error: AGENT_STOPPING, cause: cause(AGENT_STOPPING, 'the agent stopped before the task finished; retry it on another agent') };
      } else {
        const result = await work;
        this.stats.succeeded++;
        report = { ok: true, output: JSON.stringify(result) };
        this.log.info('task done', { runId: result.runId, resourceId: result.resourceId, outcomes: countOutcomes(result.results) });
      }
    } catch (e) {
      this.stats.failed++;
      const error = errorClassOf(e);
      const message = redact(e instanceof Error ? e.message : String(e));
      report = { ok: false, error, cause: cause(error, message, e instanceof InvalidConfigurationError ? e.field : undefined) };
      this.log.warn('task failed', { errorClass: error, error: message });
    } finally {
      heartbeat.stop();
    }
    try {
      if (report.ok) await this.o.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: report.output }));
      else await this.o.sfn.send(new SendTaskFailureCommand({ taskToken: token, error: report.error.slice(0, 256), cause: report.cause }));
    } catch (e) {
      // TaskTimedOut: the workflow gave up on this task already (and may retry it); nothing to undo here.
      this.log.warn('reporting the task failed', { errorClass: errorClassOf(e), error: e instanceof Error ? e.message : String(e) });
    }
  }

  /** The work's end, or 'stopped' when the agent stops and the work outlives the grace period. */
  async #untilStopped<T>(work: Promise<T>): Promise<'done' | 'stopped'> {
    const cancel = new AbortController();
    const done = work.then(
      () => 'done' as const,
      () => 'done' as const,
    );
    const graceOver = new Promise<'stopped'>((resolve) => {
      const onAbort = () => void sleep(this.o.stopGraceMs ?? 30_000, cancel.signal).then(() => !cancel.signal.aborted && resolve('stopped'));
      if (this.signal.aborted) onAbort();
      else {
        this.signal.addEventListener('abort', onAbort, { once: true });
        cancel.signal.addEventListener('abort', () => this.signal.removeEventListener('abort', onAbort), { once: true });
      }
    });
    try {
      return await Promise.race([done, graceOver]);
    } finally {
      cancel.abort();
    }
  }

  #heartbeat(token: string): { stop(): void } {
    let stopped = false;
    const timer = setInterval(() => {
      this.o.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })).catch((e: unknown) => {
        const error = errorClassOf(e);
        this.log.warn('heartbeat failed', { errorClass: error, error: e instanceof Error ? e.message : String(e) });
        // The task is gone (timed out, or closed): further heartbeats cannot help.
        if (!stopped && (error === 'TaskTimedOut' || error === 'InvalidToken' || error === 'TaskDoesNotExist')) clearInterval(timer);
      });
    }, this.o.heartbeatIntervalMs ?? 20_000);
    timer.unref?.();
    return {
      stop() {
        stopped = true;
        clearInterval(timer);
      },
    };
  }
}

/** A cause in the shape of a Lambda function error's, so the workflow's Catch reads both alike. */
function cause(errorType: string, errorMessage: string, field?: string): string {
  return JSON.stringify({ errorType, errorMessage: errorMessage.slice(0, CAUSE_MAX - 200), ...(field ? { field } : {}) });
}

function countOutcomes(results: readonly { outcome: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  return counts;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
