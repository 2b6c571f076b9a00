import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RprStack, type RprStackProps } from '../../infra/rpr-stack.js';

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

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** Replaces CloudFormation intrinsics with placeholder ARNs so the definition is plain ASL. */
function resolve(part: Json): string {
  if (typeof part === 'string') return part;
  if (part && typeof part === 'object' && !Array.isArray(part)) {
    if ('Ref' in part) {
      const ref = String(part.Ref);
      if (ref === 'AWS::Partition') return 'aws';
      if (ref === 'AWS::Region') return REGION;
      if (ref === 'AWS::AccountId') return ACCOUNT;
      if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
      return `arn:aws:states:${REGION}:${ACCOUNT}:activity:${ref}`;
    }
    if ('Fn::GetAtt' in part) {
      const [id] = part['Fn::GetAtt'] as string[];
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`;
    }
  }
  throw new Error(`unexpected intrinsic in the state machine definition: ${JSON.stringify(part)}`);
}

/**
 * The state machine definition exactly as `cdk synth` writes it for the stack (bundling skipped:
 * the tasks are bound to the real handlers in process), with its intrinsics resolved.
 */
export function synthesizedDefinition(props: RprStackProps = {}): Record<string, Json> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const template = Template.fromStack(new RprStack(app, 'local', props)).toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, Json> }> };
  const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const body = machines[0]!.Properties.DefinitionString as Json;
  const text = typeof body === 'string' ? body : ((body as { 'Fn::Join': [string, Json[]] })['Fn::Join'][1].map(resolve).join(''));
  return JSON.parse(text) as Record<string, Json>;
}

/** Every state of a definition, nested ones included (Map item processors, Parallel branches). */
export function* statesOf(definition: Record<string, Json>): Generator<[string, Record<string, Json>]> {
  for (const [name, state] of Object.entries(definition.States as Record<string, Record<string, Json>>)) {
    yield [name, state];
    const processor = (state.ItemProcessor ?? state.Iterator) as Record<string, Json> | undefined;
    if (processor) yield* statesOf(processor);
    for (const branch of (state.Branches as Record<string, Json>[] | undefined) ?? []) yield* statesOf(branch);
  }
}
