import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InvalidConfigurationError, StoreThrottledError } from '../errors.js';
import { partitionKey } from './dynamo-schema.js';

/**
 * Secrets Manager's quota for PutSecretValue, UpdateSecret and UpdateSecretVersionStage together:
 * 50 requests per second per account and region, not adjustable (AWS Secrets Manager User Guide,
 * "AWS Secrets Manager quotas").
 */
export const SECRETS_MANAGER_WRITE_QUOTA = 50;
/** The share of that quota the product takes by default; the rest is left to the account's other writers. */
export const DEFAULT_SECRETS_WRITE_RATE = 45;

/** Paces writes: `take` waits for the next slot. */
export interface WriteBudget {
  /** Waits for a slot; throws StoreThrottledError when the slot would come after `deadline` (epoch ms). */
  take(deadline: number): Promise<void>;
}

export interface DynamoWriteBudgetOptions {
  readonly client: Pick<DynamoDBDocumentClient, 'send'>;
  readonly tableName: string;
  /** Writes per second, for every process that shares the table. */
  readonly writesPerSecond: number;
  /** The budget's item; processes that name the same one share it. Default: Secrets Manager's writes. */
  readonly name?: string;
  readonly clock?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * One write rate shared by every Lambda container, agent and CLI process of a deployment: a
 * single item of the state table holds the time at which the next write may go (GCRA's
 * "theoretical arrival time"). Each take moves it one interval on with one conditional update
 * and sleeps until the slot it got, so writes leave evenly spaced, whoever sends them, and
 * contention costs no failed requests while the queue is busy. When the queue has been idle,
 * the first taker restarts it.
 *
 * A slot can come back already past (the update was slow); several such answers delayed
 * together (a slow moment of DynamoDB or of the process) would leave as a burst. So a process
 * also keeps its own writes one interval apart: a late slot is spent no sooner than one interval
 * after the process's previous write.
 */
export class DynamoWriteBudget implements WriteBudget {
  readonly #o: DynamoWriteBudgetOptions;
  readonly #interval: number;
  readonly #key: Record<string, string>;
  readonly #clock: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Whether the queue looked busy at the last take: which update to try first. */
  #busy = false;

  constructor(options: DynamoWriteBudgetOptions) {
    if (!(options.writesPerSecond > 0) || !Number.isFinite(options.writesPerSecond)) {
      throw new InvalidConfigurationError('secretsWriteRate', `must be a positive number of writes per second, not ${options.writesPerSecond}`);
    }
    this.#o = options;
    this.#interval = 1000 / options.writesPerSecond;
    this.#key = { pk: partitionKey('BUDGET#', options.name ?? 'secretsmanager-writes'), sk: 'BUDGET' };
    this.#clock = options.clock ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Reserves the next slot and returns its time (epoch ms) without waiting for it. */
  async slot(): Promise<number> {
    for (;;) {
      const now = this.#clock();
      const slot = this.#busy ? ((await this.#next(now)) ?? (await this.#restart(now))) : ((await this.#restart(now)) ?? (await this.#next(now)));
      if (slot !== undefined) return slot;
    }
  }

  async take(deadline: number): Promise<void> {
    const pace = `${this.#o.tableName}|${this.#key.pk}`;
    const at = Math.max(await this.slot(), (lastWrite.get(pace) ?? Number.NEGATIVE_INFINITY) + this.#interval);
    if (at > deadline) {
      throw new StoreThrottledError(`the write budget (${this.#o.writesPerSecond}/s) has no slot before the account's time is up`);
    }
    lastWrite.set(pace, at);
    const wait = at - this.#clock();
    if (wait > 0) await this.#sleep(wait);
  }

  /** The queue is busy (its next slot is now or later): take that slot. */
  async #next(now: number): Promise<number | undefined> {
    try {
      const out = await this.#o.client.send(
        new UpdateCommand({
          TableName: this.#o.tableName,
          Key: this.#key,
          UpdateExpression: 'SET tat = tat + :i',
          ConditionExpression: 'tat >= :now',
          ExpressionAttributeValues: { ':i': this.#interval, ':now': now },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      this.#busy = true;
      return (out.Attributes?.tat as number) - this.#interval;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      this.#busy = false;
      return undefined;
    }
  }

  /** The queue is idle (its next slot has passed, or it never ran): start it again with this take. */
  async #restart(now: number): Promise<number | undefined> {
    try {
      await this.#o.client.send(
        new UpdateCommand({
          TableName: this.#o.tableName,
          Key: this.#key,
          UpdateExpression: 'SET tat = :next',
          ConditionExpression: 'attribute_not_exists(tat) OR tat < :now',
          ExpressionAttributeValues: { ':next': now + this.#interval, ':now': now },
        }),
      );
      this.#busy = false;
      return now;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      this.#busy = true;
      return undefined;
    }
  }
}

/** Per budget, when this process's latest write goes (a process paces its own writes too). */
const lastWrite = new Map<string, number>();

function isConditionFailure(e: unknown): boolean {
  return e instanceof Error && e.name === 'ConditionalCheckFailedException';
}
