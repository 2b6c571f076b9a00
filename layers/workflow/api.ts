import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { InvalidConfigurationError } from '../engine/errors.js';
import { Log } from '../engine/log.js';
import { idSchema } from '../resources/common.js';
import { clientConfig, storesFromEnvironment, type WorkflowStores } from './environment.js';
import { groupResultSchema, resetRequestSchema, runModeSchema } from './events.js';
import { parsePayload } from './parse.js';
import { runIdFor } from './plan.js';

/** `POST /resets` answers with the execution and the run it records. */
export const startResponseSchema = z.object({ executionArn: z.string(), runId: z.string() }).strict();

/** Every 4xx/5xx answer: a message, and for bad input the offending field. */
export const errorResponseSchema = z.object({ error: z.string(), field: z.string().optional() }).strict();

/** The path parameter of `GET /resets/{id}`: the run id that `POST /resets` returned. */
export const runIdParameterSchema = z.string().regex(/^run-[A-Za-z0-9_-]{1,80}$/, 'must be a run id returned by POST /resets ("run-" and the execution name)');

const accountResultSchema = groupResultSchema.shape.results.element.extend({ resourceId: idSchema, startedAt: z.string(), endedAt: z.string() });

/** `GET /resets/{id}`: the execution's status and, once the run is recorded, per-account results (never a password). */
export const statusResponseSchema = z
  .object({
    runId: z.string(),
    executionArn: z.string(),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
    startDate: z.string().optional(),
    stopDate: z.string().optional(),
    /** The error name a failed execution ended with (its cause is not returned). */
    error: z.string().optional(),
    run: z
      .object({
        status: z.enum(['running', 'succeeded', 'partial', 'failed']),
        /** `verify` for a verify run (each account in-sync, drifted, out-of-sync, failed or skipped); absent for a reset. */
        mode: runModeSchema.optional(),
        counts: z.record(z.string(), z.number()),
        startedAt: z.string(),
        endedAt: z.string().optional(),
      })
      .optional(),
    results: z.array(accountResultSchema).optional(),
  })
  .strict();

export interface ApiHandlerOptions {
  /** Default: a client for the function's region (and `RPR_AWS_ENDPOINT`), created once. */
  readonly sfn?: SFNClient;
  /** Default `RPR_STATE_MACHINE_ARN`. */
  readonly stateMachineArn?: string;
  readonly stores?: () => Promise<WorkflowStores>;
  readonly log?: Log;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function respond(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

function badRequest(e: InvalidConfigurationError): APIGatewayProxyResult {
  return respond(400, { error: e.message, field: e.field });
}

/** An execution's ARN from its state machine's ARN and its name. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/**
 * The REST API's one function (a proxy integration): `POST /resets` starts a workflow execution
 * named by the caller's idempotency key (else a UUID) and answers 202 at once; `GET /resets/{id}`
 * reports the execution's status and the run's per-account results.
 */
export function createApiHandler(options: ApiHandlerOptions = {}): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const log = options.log ?? new Log();
  let sfn = options.sfn;
  const client = () => (sfn ??= new SFNClient(clientConfig()));
  const stateMachineArn = () => {
    const arn = options.stateMachineArn ?? process.env.RPR_STATE_MACHINE_ARN;
    if (!arn) throw new Error('the function has no state machine configured (RPR_STATE_MACHINE_ARN)');
    return arn;
  };

  async function start(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    let body: unknown;
    try {
      const text = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
      body = JSON.parse(text ?? '');
    } catch {
      return respond(400, { error: 'body: must be a JSON object', field: 'body' });
    }
    const request = parsePayload(resetRequestSchema, body, 'body');
    const name = request.idempotencyKey ?? randomUUID();
    const runId = runIdFor(request, name);
    const input = JSON.stringify(request);
    const machine = stateMachineArn();
    try {
      const started = await client().send(new StartExecutionCommand({ stateMachineArn: machine, name, input }));
      log.info('reset started', { runId, executionArn: started.executionArn, requestedBy: request.requestedBy });
      return respond(202, { executionArn: started.executionArn!, runId });
    } catch (e) {
      if (!(e instanceof Error && e.name === 'ExecutionAlreadyExists')) throw e;
      // The same key again: the execution it started is the answer, if it was started by the same request.
      const executionArn = executionArnFor(machine, name);
      const existing = await client().send(new DescribeExecutionCommand({ executionArn }));
      if (!sameJson(existing.input, input)) {
        return respond(409, { error: `idempotencyKey: "${name}" was used for a different request`, field: 'idempotencyKey' });
      }
      return respond(200, { executionArn, runId });
    }
  }

  async function status(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const runId = parsePayload(runIdParameterSchema, event.pathParameters?.id, 'id');
    const executionArn = executionArnFor(stateMachineArn(), runId.slice('run-'.length));
    let execution;
    try {
      execution = await client().send(new DescribeExecutionCommand({ executionArn }));
    } catch (e) {
      if (e instanceof Error && e.name === 'ExecutionDoesNotExist') return respond(404, { error: `id: no reset ${runId}`, field: 'id' });
      throw e;
    }
    const { state } = await (options.stores ?? storesFromEnvironment)();
    const run = await state.getRun(runId);
    const results = run ? await state.listAccountResults(runId) : undefined;
    const body = statusResponseSchema.parse({
      runId,
      executionArn,
      status: execution.status,
      ...(execution.startDate ? { startDate: execution.startDate.toISOString() } : {}),
      ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
      ...(execution.error ? { error: execution.error } : {}),
      ...(run ? { run: { status: run.status, ...(run.mode ? { mode: run.mode } : {}), counts: run.counts, startedAt: run.startedAt, ...(run.endedAt ? { endedAt: run.endedAt } : {}) } } : {}),
      ...(results
        ? {
            results: results.map((r) => ({
              accountId: r.accountId,
              resourceId: r.resourceId,
              outcome: r.outcome,
              step: r.step,
              startedAt: r.startedAt,
              endedAt: r.endedAt,
              ...(r.versionId !== undefined ? { versionId: r.versionId } : {}),
              ...(r.errorClass !== undefined ? { errorClass: r.errorClass } : {}),
              ...(r.message !== undefined ? { message: r.message.slice(0, 2048) } : {}),
              ...(r.workingVersion !== undefined ? { workingVersion: r.workingVersion } : {}),
              ...(r.keptVersion !== undefined ? { keptVersion: r.keptVersion } : {}),
            })),
          }
        : {}),
    });
    return respond(200, body);
  }

  return async (event) => {
    try {
      const route = `${event.httpMethod} ${event.resource}`;
      if (route === 'POST /resets') return await start(event);
      if (route === 'GET /resets/{id}') return await status(event);
      return respond(404, { error: `no route ${route}` });
    } catch (e) {
      if (e instanceof InvalidConfigurationError) return badRequest(e);
      log.error('request failed', { errorClass: e instanceof Error ? e.name : 'Error', error: e });
      return respond(500, { error: `internal error (${e instanceof Error ? e.name : 'Error'})` });
    }
  };
}

function sameJson(a: string | undefined, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a ?? 'null')) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}
