import { z } from 'zod';
import { accountIdSchema, idSchema, RESOURCE_TYPES, siteSchema, tagSchema } from '../resources/common.js';

/**
 * The payloads that travel between the entry points, the state machine and the functions.
 * Only ids, versions and redacted messages: never a password (invariant 1).
 */

export const selectorSchema = z
  .object({
    accountIds: z.array(accountIdSchema).min(1).max(10_000).optional(),
    resourceIds: z.array(idSchema).min(1).max(10_000).optional(),
    types: z.array(z.enum(RESOURCE_TYPES)).min(1).optional(),
    tags: z.array(tagSchema).min(1).max(50).optional(),
    sites: z.array(siteSchema).min(1).max(50).optional(),
  })
  .strict()
  .refine((s) => Object.keys(s).length > 0, { message: 'must name accounts, resources, types, tags or sites' });

/**
 * What a run does: `reset` the selected accounts' passwords (the default), or `verify` each one's
 * AWSCURRENT on the target and change nothing, reporting it in-sync, drifted or out-of-sync.
 */
export const runModeSchema = z.enum(['reset', 'verify']);

/** The input of a workflow execution (POST /resets, a schedule, `rpr run start`). */
export const resetRequestSchema = z
  .object({
    selector: selectorSchema,
    /** `verify`: check each account's AWSCURRENT, change nothing. Default `reset`. */
    mode: runModeSchema.optional(),
    /** The caller's idempotency key; it becomes the execution name, so a repeat starts nothing new. */
    idempotencyKey: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"').optional(),
    /** Who asked, for the audit trail. */
    requestedBy: z.string().max(256).optional(),
  })
  .strict();
export type ResetRequest = z.output<typeof resetRequestSchema>;

/** One resource's accounts: by id, or (a group too large to list) as the run's selector selects them. */
const oneGroupSchema = z
  .object({
    runId: z.string().min(1).max(128),
    resourceId: idSchema,
    type: z.enum(RESOURCE_TYPES),
    /** "cloud", or the agent site that serves this resource. */
    site: siteSchema,
    accountIds: z.array(accountIdSchema).min(1).optional(),
    /**
     * Instead of accountIds: every account of the resource that the run's selector selects, read
     * when the task runs. For groups whose ids would not fit in a state's 256 KB.
     */
    selected: z.literal(true).optional(),
    /** The run's mode; absent: reset. */
    mode: runModeSchema.optional(),
  })
  .strict();

/** Exactly one of accountIds and selected, on the task and on each chained group. */
function oneWayOfNaming(task: { accountIds?: unknown; selected?: unknown; chain?: readonly { accountIds?: unknown; selected?: unknown }[] }, ctx: z.RefinementCtx): void {
  for (const [group, path] of [[task, []], ...(task.chain ?? []).map((g, i) => [g, ['chain', i]] as const)] as const) {
    if ((group.accountIds === undefined) === (group.selected === undefined)) {
      ctx.addIssue({ code: 'custom', path: [...path, 'accountIds'], message: 'name the accounts (accountIds) or ask for the run\'s selection (selected), one of the two' });
    }
  }
}

/**
 * A task for a type's function or an agent site: one resource's accounts, and the groups of
 * other resources on the same directory server (`chain`) that run after it, one at a time, in the
 * same invocation: how the plan caps the groups a domain controller serves at once.
 */
export const groupTaskSchema = oneGroupSchema.extend({ chain: z.array(oneGroupSchema).max(1000).optional() }).strict().superRefine(oneWayOfNaming);
export type GroupTask = z.output<typeof groupTaskSchema>;

/** What a group task returns: per-account outcomes, no secrets. */
const oneGroupResultSchema = z
  .object({
    runId: z.string(),
    resourceId: idSchema,
    /** Results left out of this answer to keep it within a state's 256 KB (succeeded ones first); the state table has them all. */
    omitted: z.number().int().positive().optional(),
    results: z.array(
      z
        .object({
          accountId: accountIdSchema,
          outcome: z.enum(['succeeded', 'failed', 'out-of-sync', 'rolled-back', 'skipped', 'in-sync', 'drifted']),
          step: z.string(),
          versionId: z.string().optional(),
          errorClass: z.string().optional(),
          message: z.string().max(2048).optional(),
          workingVersion: z.string().optional(),
          keptVersion: z.string().optional(),
          throttled: z.number().int().nonnegative().optional(),
        })
        .strict(),
    ),
  })
  .strict();
/**
 * What a group task returns: per-account outcomes, no secrets; a chained group's under `chain`;
 * and under `next`, the task that carries on with what did not fit in this invocation.
 */
export const groupResultSchema = oneGroupResultSchema.extend({ chain: z.array(oneGroupResultSchema).optional(), next: groupTaskSchema.optional() }).strict();
export type GroupResult = z.output<typeof groupResultSchema>;

/** The plan step's output: the run id and the groups the Map runs. */
export interface Plan {
  readonly runId: string;
  readonly groups: GroupTask[];
  readonly total: number;
}

/** Where a run's groups were written: the Distributed Map's item reader reads them from there. */
export interface ItemsLocation {
  readonly bucket: string;
  readonly key: string;
}

/**
 * The plan step's output in the state machine: counts and where the groups are, not the groups
 * themselves, so a run's size is not bounded by the 256 KB of a state's payload.
 */
export interface PlannedRun {
  readonly runId: string;
  readonly total: number;
  /** The tasks the Map runs: a group each, except the groups chained per directory server. */
  readonly taskCount: number;
  readonly items: ItemsLocation;
}

/** Secrets Manager's rotation event (both the documented PascalCase and the snake_case forms). */
export const rotationEventSchema = z.union([
  z.object({ Step: z.enum(['createSecret', 'setSecret', 'testSecret', 'finishSecret']), SecretId: z.string().min(1), ClientRequestToken: z.string().min(32).max(64) }).passthrough(),
  z.object({ step: z.enum(['create_secret', 'set_secret', 'test_secret', 'finish_secret']), secret_id: z.string().min(1), client_request_token: z.string().min(32).max(64) }).passthrough(),
]);
