import { JsonSchemaType, JsonSchemaVersion, type JsonSchema } from 'aws-cdk-lib/aws-apigateway';
import { z } from 'zod';

/** Draft-4 keywords API Gateway's request validation understands, by CDK's property name. */
const KEYWORDS: Record<string, keyof JsonSchema> = {
  $ref: 'ref',
  type: 'type',
  title: 'title',
  description: 'description',
  enum: 'enum',
  const: 'enum',
  format: 'format',
  pattern: 'pattern',
  minLength: 'minLength',
  maxLength: 'maxLength',
  minimum: 'minimum',
  maximum: 'maximum',
  exclusiveMinimum: 'exclusiveMinimum',
  exclusiveMaximum: 'exclusiveMaximum',
  multipleOf: 'multipleOf',
  items: 'items',
  minItems: 'minItems',
  maxItems: 'maxItems',
  uniqueItems: 'uniqueItems',
  properties: 'properties',
  required: 'required',
  additionalProperties: 'additionalProperties',
  minProperties: 'minProperties',
  maxProperties: 'maxProperties',
  definitions: 'definitions',
  allOf: 'allOf',
  anyOf: 'anyOf',
  oneOf: 'oneOf',
  not: 'not',
};
const NESTED_MAPS = new Set(['properties', 'definitions']);
const NESTED = new Set(['items', 'additionalProperties', 'not']);
const NESTED_LISTS = new Set(['allOf', 'anyOf', 'oneOf']);

function adapt(node: Record<string, unknown>): JsonSchema {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    const name = KEYWORDS[key];
    if (!name) continue; // $schema, $id, and keywords draft 4 lacks
    if (NESTED_MAPS.has(key)) {
      out[name] = Object.fromEntries(Object.entries(value as Record<string, Record<string, unknown>>).map(([k, v]) => [k, adapt(v)]));
    } else if (NESTED.has(key) && typeof value === 'object' && value !== null) {
      out[name] = Array.isArray(value) ? value.map((v) => adapt(v as Record<string, unknown>)) : adapt(value as Record<string, unknown>);
    } else if (NESTED_LISTS.has(key)) {
      out[name] = (value as Record<string, unknown>[]).map(adapt);
    } else if (key === 'const') {
      out[name] = [value];
    } else if (key === 'type') {
      out[name] = Array.isArray(value) ? value.map((t) => t as JsonSchemaType) : (value as JsonSchemaType);
    } else {
      out[name] = value;
    }
  }
  return out as JsonSchema;
}

/**
 * A request model for API Gateway from a zod schema: zod's draft-4 JSON Schema with the keywords
 * API Gateway does not take dropped. Refinements zod cannot express in JSON Schema (such as "a
 * selector names something") stay with the handler, which parses with the same zod schema.
 */
export function apiGatewaySchema(schema: z.ZodType, title: string): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-4', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...adapt(json), schema: JsonSchemaVersion.DRAFT4, title };
}
