/** Helpers for reading a synthesized template in tests. */

type Json = unknown;
export type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** A placeholder for an intrinsic, shaped like what it stands for (an ARN of the right service, a name). */
function placeholder(intrinsic: Record<string, unknown>, resources: Resources): string {
  if ('Ref' in intrinsic) {
    const ref = intrinsic.Ref as string;
    if (ref === 'AWS::Partition') return 'aws';
    if (ref === 'AWS::Region') return REGION;
    if (ref === 'AWS::AccountId') return ACCOUNT;
    const type = resources[ref]?.Type;
    if (type === 'AWS::StepFunctions::Activity') return `arn:aws:states:${REGION}:${ACCOUNT}:activity:${ref}`;
    return ref.toLowerCase();
  }
  if ('Fn::GetAtt' in intrinsic) {
    const [id] = intrinsic['Fn::GetAtt'] as [string, string];
    if (resources[id]?.Type === 'AWS::Lambda::Function') return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`;
    return id.toLowerCase();
  }
  throw new Error(`no placeholder for ${JSON.stringify(intrinsic)}`);
}

/** The state machine definition with its CloudFormation intrinsics replaced by placeholder ARNs and names. */
export function resolveDefinition(definitionString: Json, resources: Resources): Record<string, unknown> {
  if (typeof definitionString === 'string') return JSON.parse(definitionString) as Record<string, unknown>;
  const join = (definitionString as { 'Fn::Join': [string, Json[]] })['Fn::Join'];
  const text = join[1].map((part) => (typeof part === 'string' ? part : placeholder(part as Record<string, unknown>, resources))).join(join[0]);
  return JSON.parse(text) as Record<string, unknown>;
}

export interface StateEntry {
  readonly name: string;
  readonly state: Record<string, unknown>;
}

/** Every state, including those inside Map item processors and Parallel branches. */
export function allStates(definition: Record<string, unknown>): StateEntry[] {
  const out: StateEntry[] = [];
  const visit = (machine: Record<string, unknown>) => {
    for (const [name, state] of Object.entries(machine.States as Record<string, Record<string, unknown>>)) {
      out.push({ name, state });
      for (const nested of [state.ItemProcessor, state.Iterator, ...((state.Branches as unknown[]) ?? [])]) {
        if (nested) visit(nested as Record<string, unknown>);
      }
    }
  };
  visit(definition);
  return out;
}

/** Every object key and every string value that is a JSONPath or a key ending in ".$", anywhere in a value. */
export function fieldNamesAndPaths(value: Json): string[] {
  const out: string[] = [];
  const walk = (v: Json) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        out.push(k);
        walk(child);
      }
    } else if (typeof v === 'string' && v.startsWith('$')) out.push(v);
  };
  walk(value);
  return out;
}
