import type { z } from 'zod';
import { InvalidConfigurationError } from '../engine/errors.js';
import { resolvePolicy, type Policy } from '../engine/policy.js';
import { accountSchema, RESOURCE_TYPES, type Account, type ResourceType } from './common.js';
import type { ResourceTypeDefinition } from './definition.js';
import { mysqlDefinition } from './mysql/schema.js';
import { postgresqlDefinition } from './postgresql/schema.js';
import { unixDefinition } from './unix/schema.js';

/** Every resource type's definition. The compiler refuses a registry that misses a type. */
export const RESOURCE_TYPE_DEFINITIONS = {
  linux: unixDefinition('linux'),
  aix: unixDefinition('aix'),
  'hp-ux': unixDefinition('hp-ux'),
  solaris: unixDefinition('solaris'),
  macos: unixDefinition('macos'),
  esxi: unixDefinition('esxi'),
  postgresql: postgresqlDefinition,
  mysql: mysqlDefinition,
} satisfies Partial<{ [T in ResourceType]: ResourceTypeDefinition<z.ZodType, T> }>;

export type Definitions = typeof RESOURCE_TYPE_DEFINITIONS;
/** A parsed resource of any type. */
export type Resource = { [T in keyof Definitions]: z.output<Definitions[T]['schema']> }[keyof Definitions];

export function isResourceType(type: unknown): type is ResourceType {
  return typeof type === 'string' && (RESOURCE_TYPES as readonly string[]).includes(type);
}

export function definitionOf(type: unknown): ResourceTypeDefinition {
  if (!isResourceType(type) || !(type in RESOURCE_TYPE_DEFINITIONS)) {
    throw new InvalidConfigurationError('type', `unknown resource type ${JSON.stringify(type)}; known types: ${RESOURCE_TYPES.join(', ')}`);
  }
  return RESOURCE_TYPE_DEFINITIONS[type as keyof Definitions] as ResourceTypeDefinition;
}

function fail(prefix: string, error: z.ZodError): never {
  const issue = error.issues[0]!;
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  throw new InvalidConfigurationError(field, issue.message, { cause: error });
}

/**
 * Parses a resource's configuration with its type's schema, applies defaults and checks
 * its password policy can be met. Throws InvalidConfigurationError naming the field.
 */
export function parseResource(input: unknown, prefix = ''): Resource & { policy?: Partial<Policy> } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidConfigurationError(prefix || 'resource', 'must be an object');
  }
  const def = definitionOf((input as { type?: unknown }).type);
  const parsed = def.schema.safeParse(input);
  if (!parsed.success) fail(prefix, parsed.error);
  const resource = parsed.data as Resource;
  policyOf(resource, prefix ? `${prefix}.policy` : 'policy');
  return resource;
}

/** The resource's effective password policy: its overrides on top of the type's defaults and limits. */
export function policyOf(resource: { type: string; policy?: unknown }, path = 'policy'): Policy {
  return resolvePolicy(definitionOf(resource.type).policy, resource.policy as Partial<Policy> | undefined, path);
}

/** Parses an account and checks its user name with the rules of its resource's type. */
export function parseAccount(input: unknown, resourceType: string, prefix = ''): Account {
  const parsed = accountSchema.safeParse(input);
  if (!parsed.success) fail(prefix, parsed.error);
  const username = definitionOf(resourceType).username.safeParse(parsed.data.username);
  if (!username.success) {
    throw new InvalidConfigurationError([prefix, 'username'].filter(Boolean).join('.'), username.error.issues[0]!.message);
  }
  return parsed.data;
}
