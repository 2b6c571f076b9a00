import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RprStack, type RprStackProps } from '../../infra/rpr-stack.js';
import { allStates, resolveDefinition, type Resources } from '../infra/template-tools.js';

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
