import { AccountBusyError, errorClassOf } from './errors.js';
import { HEARTBEAT_MS, holderGone, STALE_AFTER_MS } from './holder.js';
import type { Log } from './log.js';
import type { Holder, Lease, StateStore } from './stores/types.js';

interface Held {
  lease: Lease;
  readonly runId: string;
  /** The step the account's reset is at, read when a heartbeat records the run's accounts in flight. */
  readonly step: () => string;
  /** A heartbeat found the lease held by someone else: the account must not go on to change the target. */
  lost?: string;
}

export interface LeaseKeeperOptions {
  readonly state: StateStore;
  readonly ttlMs: number;
  /** This process, recorded on every lease it takes. */
  readonly holder: Holder;
  readonly heartbeatMs?: number;
  readonly staleAfterMs?: number;
  readonly log: Log;
}

/**
 * The leases one engine holds. Each is taken with this process recorded as its holder, and
 * renewed every heartbeat while the account is worked on, so that another process can tell a
 * dead holder from a live one (holder.ts): a lease whose holder is gone is taken over at once
 * (the dead run's pending version is then settled by create, as for any stale pending version),
 * one whose holder lives is refused as busy. A renewal that finds the lease taken marks it lost,
 * and the account stops before its change (`check`).
 */
export class LeaseKeeper {
  readonly #o: LeaseKeeperOptions;
  readonly #held = new Map<string, Held>();
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;

  constructor(options: LeaseKeeperOptions) {
    this.#o = options;
  }

  /** Takes the account's lease for the run, or the lease of a holder that is gone; throws AccountBusyError while a live one holds it. */
  async take(accountId: string, runId: string, step: () => string, log: Log): Promise<Lease> {
    const { state, ttlMs, holder } = this.#o;
    let lease: Lease;
    try {
      lease = await state.acquire(accountId, runId, ttlMs, { reentrant: true, holder });
    } catch (e) {
      const held = e instanceof AccountBusyError ? e.lease : undefined;
      const gone = held && holderGone(held, { me: holder, now: Date.now(), staleAfterMs: this.#o.staleAfterMs ?? STALE_AFTER_MS });
      if (!held || !gone) throw e;
      log.warn('taking over the lease of a run whose process is gone', { heldBy: held.owner, why: gone });
      lease = await state.takeOver(held, runId, ttlMs, holder);
    }
    this.#held.set(accountId, { lease, runId, step });
    this.#timer ??= setInterval(() => void this.beat(), this.#o.heartbeatMs ?? HEARTBEAT_MS).unref();
    return lease;
  }

  /** Throws AccountBusyError if a heartbeat found the account's lease held by another run: nothing may be changed under it. */
  check(accountId: string): void {
    const lost = this.#held.get(accountId)?.lost;
    if (lost) throw new AccountBusyError(lost);
  }

  /** Stops renewing the account's lease (it is being released, or was never taken). */
  drop(accountId: string): void {
    this.#held.delete(accountId);
    if (this.#held.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** The run's accounts whose leases this engine holds, and the step each is at. */
  inFlight(runId: string): { accountId: string; step: string }[] {
    return [...this.#held].filter(([, h]) => h.runId === runId).map(([accountId, h]) => ({ accountId, step: h.step() }));
  }

  /** Renews every lease held; one heartbeat at a time. */
  beat(): Promise<void> {
    this.#beating ??= this.#beat().finally(() => (this.#beating = undefined));
    return this.#beating;
  }

  async #beat(): Promise<void> {
    await Promise.all(
      [...this.#held].map(async ([accountId, h]) => {
        if (h.lost) return;
        try {
          const renewed = await this.#o.state.renew(h.lease, this.#o.ttlMs);
          if (this.#held.get(accountId) === h) h.lease = renewed;
        } catch (e) {
          // Released meanwhile (the account just ended): nothing to do.
          if (this.#held.get(accountId) !== h) return;
          if (e instanceof AccountBusyError) {
            h.lost = e.message;
            this.#o.log.error('lease lost to another run; the account stops before its change', { accountId, runId: h.runId });
          } else this.#o.log.warn('renewing a lease failed; trying again at the next heartbeat', { accountId, errorClass: errorClassOf(e) });
        }
      }),
    );
  }
}
