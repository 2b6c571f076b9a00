import type { Node } from 'constructs';
import type { RprStackProps } from './rpr-stack.js';

/** A list from context: a JSON array in cdk.json, or "a,b" from `-c key=a,b`. */
function list(node: Node, key: string): string[] | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter(Boolean);
  throw new Error(`context ${key}: expected a list or a comma-separated string`);
}

function number(node: Node, key: string): number | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`context ${key}: expected a number, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * The stack's settings from CDK context (cdk.json or `-c`), all optional and read offline:
 * `vpcId` + `subnetIds` (+ `availabilityZones`, `routeTableIds`), `sites`, `targetCidrs`, `maxConcurrency`,
 * `toleratedFailurePercentage`, `secretsWriteRate`, `dynamoDbPrefixListId`, `createEndpoints`.
 */
export function propsFromContext(node: Node): RprStackProps {
  const vpcId = node.tryGetContext('vpcId') as string | undefined;
  const subnetIds = list(node, 'subnetIds');
  if (vpcId && !subnetIds) throw new Error('context subnetIds: required with vpcId (the private subnets that reach the targets)');
  const azs = list(node, 'availabilityZones');
  const routeTableIds = list(node, 'routeTableIds');
  const sites = list(node, 'sites');
  const targetCidrs = list(node, 'targetCidrs');
  const maxConcurrency = number(node, 'maxConcurrency');
  const toleratedFailurePercentage = number(node, 'toleratedFailurePercentage');
  const secretsWriteRate = number(node, 'secretsWriteRate');
  const prefixList = node.tryGetContext('dynamoDbPrefixListId') as string | undefined;
  const createEndpoints: unknown = node.tryGetContext('createEndpoints');
  return {
    ...(vpcId && subnetIds ? { vpc: { vpcId, subnetIds, ...(azs ? { availabilityZones: azs } : {}), ...(routeTableIds ? { routeTableIds } : {}) } } : {}),
    ...(sites ? { sites } : {}),
    ...(targetCidrs ? { targetCidrs } : {}),
    ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
    ...(toleratedFailurePercentage !== undefined ? { toleratedFailurePercentage } : {}),
    ...(secretsWriteRate !== undefined ? { secretsWriteRate } : {}),
    ...(prefixList ? { dynamoDbPrefixListId: prefixList } : {}),
    ...(createEndpoints !== undefined ? { createEndpoints: createEndpoints === true || createEndpoints === 'true' } : {}),
  };
}
