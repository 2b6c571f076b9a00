import type { z } from 'zod';
import { InvalidConfigurationError } from '../engine/errors.js';
import { resolvePolicy, type Policy, type PolicyOverrides } from '../engine/policy.js';
import type { StoredResource } from '../engine/stores/types.js';
import type { EngineType, TypeRegistry } from '../engine/types.js';
import { awsIamDefinition } from './aws-iam/schema.js';
import { ciscoDefinition } from './cisco/schema.js';
import { accountSchema, RESOURCE_TYPES, type Account, type ResourceType } from './common.js';
import type { ResourceTypeDefinition } from './definition.js';
import { entraIdDefinition } from './entra-id/schema.js';
import { googleWorkspaceDefinition } from './google-workspace/schema.js';
import { hpIloDefinition } from './hp-ilo/schema.js';
import { hpProcurveDefinition } from './hp-procurve/schema.js';
import { juniperNetscreenDefinition } from './juniper-netscreen/schema.js';
import { ldapDefinition } from './ldap/schema.js';
import { mssqlDefinition } from './mssql/schema.js';
import { mysqlDefinition } from './mysql/schema.js';
import { oracleDefinition } from './oracle/schema.js';
import { postgresqlDefinition } from './postgresql/schema.js';
import { rackspaceDefinition } from './rackspace/schema.js';
import { salesforceDefinition } from './salesforce/schema.js';
import { serviceProcessorDefinition } from './service-processor/schema.js';
import { sybaseAseDefinition } from './sybase-ase/schema.js';
import { unixDefinition } from './unix/schema.js';
import { weblogicDefinition } from './weblogic/schema.js';
import { windowsDomainDefinition } from './windows-domain/schema.js';
import { windowsDefinition } from './windows/schema.js';

/**
 * Every resource type's descriptor, one line each; everything else is made from these. The
 * compiler refuses a registry that misses a type.
 */
export const RESOURCE_TYPE_DEFINITIONS = {
  windows: windowsDefinition,
  'windows-domain': windowsDomainDefinition,
  linux: unixDefinition('linux'),
  aix: unixDefinition('aix'),
  'hp-ux': unixDefinition('hp-ux'),
  solaris: unixDefinition('solaris'),
  macos: unixDefinition('macos'),
  esxi: unixDefinition('esxi'),
  as400: serviceProcessorDefinition('as400'),
  alom: serviceProcessorDefinition('alom'),
  ilom: serviceProcessorDefinition('ilom'),
  xscf: serviceProcessorDefinition('xscf'),
  mysql: mysqlDefinition,
  postgresql: postgresqlDefinition,
  weblogic: weblogicDefinition,
  mssql: mssqlDefinition,
  oracle: oracleDefinition,
  'sybase-ase': sybaseAseDefinition,
  ldap: ldapDefinition,
  'hp-procurve': hpProcurveDefinition,
  'hp-ilo': hpIloDefinition,
  'cisco-ios': ciscoDefinition('cisco-ios'),
  'cisco-catos': ciscoDefinition('cisco-catos'),
  'cisco-pix': ciscoDefinition('cisco-pix'),
  'juniper-netscreen': juniperNetscreenDefinition,
  'aws-iam': awsIamDefinition,
  'google-workspace': googleWorkspaceDefinition,
  'entra-id': entraIdDefinition,
  rackspace: rackspaceDefinition,
  salesforce: salesforceDefinition,
} satisfies { [T in ResourceType]: ResourceTypeDefinition<z.ZodType, T> };

export type Definitions = typeof RESOURCE_TYPE_DEFINITIONS;
/** A parsed resource of any type. */
export type Resource = { [T in keyof Definitions]: z.output<Definitions[T]['schema']> }[keyof Definitions];

export function isResourceType(type: unknown): type is ResourceType {
  return typeof type === 'string' && (RESOURCE_TYPES as readonly string[]).includes(type);
}

export function definitionOf(type: unknown, field = 'type'): ResourceTypeDefinition {
  if (type === undefined || type === null || type === '') {
    throw new InvalidConfigurationError(field, `is required; one of: ${RESOURCE_TYPES.join(', ')}`);
  }
  if (!isResourceType(type)) {
    throw new InvalidConfigurationError(field, `unknown resource type ${JSON.stringify(type)}; known types: ${RESOURCE_TYPES.join(', ')}`);
  }
  return RESOURCE_TYPE_DEFINITIONS[type] as ResourceTypeDefinition;
}

function join(...parts: (string | undefined)[]): string {
  return parts.filter(Boolean).join('.');
}

function fail(prefix: string, error: z.ZodError): never {
  const issue = error.issues[0]!;
  // An unknown key is reported on its parent; name the key itself.
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  const field = join(prefix, ...path.map(String));
  throw new InvalidConfigurationError(field, issue.message, { cause: error });
}

/**
 * Parses a resource's configuration with its type's schema, applies defaults and checks
 * its password policy can be met. Throws InvalidConfigurationError naming the field.
 * `policy` holds only the overrides written, never the generic defaults.
 */
export function parseResource(input: unknown, prefix = ''): Resource & { policy?: PolicyOverrides } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidConfigurationError(prefix || 'resource', 'must be an object');
  }
  const def = definitionOf((input as { type?: unknown }).type, join(prefix, 'type'));
  const parsed = def.schema.safeParse(input);
  if (!parsed.success) fail(prefix, parsed.error);
  const resource = parsed.data as Resource & { policy?: PolicyOverrides };
  policyOf(resource, join(prefix, 'policy'));
  return resource;
}

/** The resource's effective password policy: its overrides on top of the type's defaults and limits. */
export function policyOf(resource: { type: string; policy?: PolicyOverrides }, path = 'policy'): Policy {
  return resolvePolicy(definitionOf(resource.type).policy, resource.policy, path);
}

/** Every type, sorted: each resets. */
export function implementedTypes(): ResourceType[] {
  return (Object.keys(RESOURCE_TYPE_DEFINITIONS) as ResourceType[]).sort();
}

/** The reset function family that serves a type, or undefined for a name that is no type. */
export function familyOf(type: string): string | undefined {
  return isResourceType(type) ? RESOURCE_TYPE_DEFINITIONS[type].implementation.family : undefined;
}

function engineType(def: ResourceTypeDefinition): EngineType {
  const implementation = def.implementation;
  return {
    type: def.type,
    verification: def.verification,
    adapter: implementation.adapter,
    policy: def.policy,
    references: def.references as EngineType['references'],
    secrets: (def.secrets ?? (() => [])) as EngineType['secrets'],
    ...(def.realm ? { realm: def.realm as NonNullable<EngineType['realm']> } : {}),
    ...(def.sharedTarget ? { sharedTarget: def.sharedTarget as NonNullable<EngineType['sharedTarget']> } : {}),
  };
}

const ENGINE_TYPES = new Map(Object.values(RESOURCE_TYPE_DEFINITIONS).map((d) => [d.type, engineType(d as ResourceTypeDefinition)]));

/** The registry the engine is given: every type's descriptor, as the engine sees it. */
export const REGISTRY: TypeRegistry = {
  typeOf: (type, field = 'type') => ENGINE_TYPES.get(definitionOf(type, field).type)!,
  parseResource: (input, prefix) => parseResource(input, prefix) as unknown as StoredResource & { policy?: PolicyOverrides },
  parseAccount: (input, resourceType, prefix) => parseAccount(input, resourceType, prefix),
};

/** Parses an account and checks its user name with the rules of its resource's type. */
export function parseAccount(input: unknown, resourceType: string, prefix = ''): Account {
  const parsed = accountSchema.safeParse(input);
  if (!parsed.success) fail(prefix, parsed.error);
  const username = definitionOf(resourceType).username.safeParse(parsed.data.username);
  if (!username.success) {
    throw new InvalidConfigurationError(join(prefix, 'username'), username.error.issues[0]!.message);
  }
  return parsed.data;
}
