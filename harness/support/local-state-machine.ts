import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { TASK_TIMEOUT_MARGIN } from '../../infra/reset-workflow.js';
import { RprStack, type RprStackProps } from '../../infra/rpr-stack.js';
import type { ItemsLocation, PlannedRun } from '../../layers/workflow/events.js';
import { allStates, resolveDefinition, type Resources } from './template-tools.js';

// aws-local-stepfunctions 3 uses Promise.withResolvers, which Node 20 lacks (Node 22 has it).
if (!('withResolvers' in Promise)) {
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
      return { promise, resolve, reject };
    },
  });
}

/**
 * The state machine definition exactly as `cdk synth` writes it for the stack (bundling skipped:
 * the tasks are bound to the real handlers in process), with its intrinsics resolved.
 */
export function synthesizedDefinition(props: RprStackProps = {}): Record<string, unknown> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const { Resources: resources } = Template.fromStack(new RprStack(app, 'local', props)).toJSON() as { Resources: Resources };
  const machines = Object.values(resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  return resolveDefinition(machines[0]!.Properties!.DefinitionString, resources);
}

/** Every state of a definition, nested ones included, as [name, state]. */
export function statesOf(definition: Record<string, unknown>): [string, Record<string, unknown>][] {
  return allStates(definition).map((s) => [s.name, s.state]);
}

/**
 * The definition as aws-local-stepfunctions can run it. The interpreter has no Distributed Map
 * ItemReader or ResultWriter and does not count a ToleratedFailurePercentage, so only those
 * fields of the Map are rewritten: ResultWriter and ToleratedFailurePercentage are removed (the
 * results are read from the state table, where the product reads them too), and the ItemReader
 * becomes `ItemsPath: $.items.groups`, which `readingItems` fills with what the reader would read.
 */
export function locallyRunnable(definition: Record<string, unknown>, maxConcurrency?: number): Record<string, unknown> {
  const copy = structuredClone(definition);
  for (const [, state] of statesOf(copy)) {
    if (state.Type !== 'Map') continue;
    const reader = state.ItemReader as { Resource?: string; Parameters?: Record<string, unknown> } | undefined;
    if (reader?.Resource !== 'arn:aws:states:::s3:getObject' || reader.Parameters?.['Key.$'] !== '$.items.key') {
      throw new Error(`the Map's ItemReader is not the one this rewrite emulates: ${JSON.stringify(reader)}`);
    }
    delete state.ItemReader;
    state.ItemsPath = '$.items.groups';
    delete state.ResultWriter;
    delete state.ToleratedFailurePercentage;
    if (maxConcurrency !== undefined) state.MaxConcurrency = maxConcurrency;
  }
  return copy;
}

/**
 * The Plan task's local binding for `locallyRunnable`: the real plan step, then the items object it
 * wrote, read back as the Map's ItemReader reads it (the JSON array at items.bucket/items.key).
 */
export function readingItems(plan: (event: unknown) => Promise<PlannedRun>, read: (at: ItemsLocation) => Promise<unknown[]>): (event: unknown) => Promise<unknown> {
  return async (event) => {
    const planned = await plan(event);
    return { ...planned, items: { ...planned.items, groups: await read(planned.items) } };
  };
}

/** The timeout of the function a Lambda task state invokes, from the task's own (see TASK_TIMEOUT_MARGIN). */
export function functionTimeoutMs(state: Record<string, unknown>): number {
  const seconds = state.TimeoutSeconds;
  if (typeof seconds !== 'number') throw new Error('a Lambda task of the definition has no TimeoutSeconds');
  return (seconds - TASK_TIMEOUT_MARGIN.toSeconds()) * 1000;
}

/**
 * A Lambda task's local binding: the handler gets the task's Payload and a context whose
 * `getRemainingTimeInMillis` counts down from the function's timeout, and its answer comes back
 * under `Payload`, as LambdaInvoke passes them. Like Lambda, an invocation that outlives its
 * timeout fails with `Sandbox.Timedout` (the handler cannot be stopped here; it is left to end).
 */
export function lambdaTask(
  handler: (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<unknown>,
  timeoutMs = 15 * 60_000,
): (input: { Payload: unknown }) => Promise<{ Payload: unknown }> {
  return async (input) => {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const cutOff = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`), { name: 'Sandbox.Timedout' })), timeoutMs);
    });
    try {
      return { Payload: await Promise.race([handler(input.Payload, { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) }), cutOff]) };
    } finally {
      clearTimeout(timer);
    }
  };
}
