import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { errorResponseSchema, runIdParameterSchema, startResponseSchema, statusResponseSchema } from './api.js';
import { resetRequestSchema } from './events.js';

/** Where the published document lives: openapi.json at the repository's root. */
export const OPENAPI_FILE = fileURLToPath(new URL('../../openapi.json', import.meta.url));

const schema = (s: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { target: 'openapi-3.0', io });
const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const error = (description: string) => ({ description, content: json('Error') });

/** The REST API's OpenAPI 3.0 document, generated from the same zod schemas the handlers validate with. */
export function buildOpenApi(): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'rpr: remote password reset',
      version: '1',
      description: 'Starts password resets and reports their results. Every call is signed with AWS SigV4 (IAM authorization). No response ever carries a password.',
    },
    security: [{ sigv4: [] }],
    paths: {
      '/resets': {
        post: {
          operationId: 'startReset',
          summary: 'Start a reset of the selected accounts, or with mode "verify" a verify run that checks each account\'s AWSCURRENT and changes nothing; answers at once with the execution and run ids.',
          requestBody: { required: true, content: json('ResetRequest') },
          responses: {
            '202': { description: 'Started.', content: json('StartResponse') },
            '200': { description: 'The idempotency key was used before by the same request: its execution.', content: json('StartResponse') },
            '400': error('Bad input; `field` names the offending field.'),
            '409': error('The idempotency key was used for a different request.'),
            '500': error('Internal error.'),
          },
        },
      },
      '/resets/{id}': {
        get: {
          operationId: 'getReset',
          summary: "A reset's status and per-account results.",
          parameters: [{ name: 'id', in: 'path', required: true, description: 'The run id POST /resets returned.', schema: schema(runIdParameterSchema, 'input') }],
          responses: {
            '200': { description: 'The execution status and, once recorded, the results.', content: json('StatusResponse') },
            '400': error('Malformed id.'),
            '404': error('No such reset.'),
            '500': error('Internal error.'),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' },
      },
      schemas: {
        ResetRequest: schema(resetRequestSchema, 'input'),
        StartResponse: schema(startResponseSchema, 'output'),
        StatusResponse: schema(statusResponseSchema, 'output'),
        Error: schema(errorResponseSchema, 'output'),
      },
    },
  };
}

export function openApiText(): string {
  return `${JSON.stringify(buildOpenApi(), null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(OPENAPI_FILE, openApiText());
}
