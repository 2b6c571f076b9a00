import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Holder } from './stores/types.js';

/** How often a process renews the leases it holds and its run's record: its heartbeat. */
export const HEARTBEAT_MS = 20_000;
/** A heartbeat older than this (three missed beats) means its process is gone. */
export const STALE_AFTER_MS = 3 * HEARTBEAT_MS;

const readOrUndefined = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/**
 * When the kernel started a process, from /proc/<pid>/stat field 22 (clock ticks since boot), or
 * undefined where there is no /proc (or no such process). The command name (field 2) is in
 * parentheses and may hold spaces and parentheses itself, so fields are counted after the last ')'.
 */
export function processStartOf(pid: number | 'self'): string | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // After ") " come field 3 (state) onwards: field 22 is the 20th of them.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

let self: Holder | undefined;

/** This process, as a lease or a run records its holder. */
export function thisProcess(kind: string): Holder {
  self ??= (() => {
    // The boot id and the pid namespace: pids compare only within one of each (a container has its own).
    const boot = readOrUndefined('/proc/sys/kernel/random/boot_id');
    let pidNamespace = '';
    try {
      pidNamespace = readlinkSync('/proc/self/ns/pid');
    } catch {
      // No namespaces to tell apart.
    }
    const bootId = boot && `${boot} ${pidNamespace}`.trim();
    const processStart = processStartOf('self');
    return { host: hostname(), ...(bootId ? { bootId } : {}), pid: process.pid, ...(processStart ? { processStart } : {}) };
  })();
  return { ...self, kind };
}

/** Whether process `pid` of this machine is running, by signal 0 (EPERM: it runs, as another user). */
function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Why the holder of a lease (or the owner of a run) is gone, or undefined while it may be alive.
 * On this machine, boot and pid namespace (the same host and boot id), a holder is gone as soon as its pid is no
 * longer running, or runs a process started at another time (the pid was reused): no waiting. Of
 * a holder elsewhere (another host, a container with its own pids, a Lambda, an agent) only its
 * heartbeat tells: gone once the heartbeat is older than `staleAfterMs`. A holder recorded without
 * a heartbeat is never judged gone here; its lease still ends when it expires.
 */
export function holderGone(
  held: { readonly holder?: Holder; readonly heartbeatAt?: number },
  options: { readonly me: Holder; readonly now: number; readonly staleAfterMs?: number },
): string | undefined {
  const { holder, heartbeatAt } = held;
  const { me, now } = options;
  if (holder?.pid !== undefined && holder.host === me.host) {
    if (holder.bootId !== undefined && holder.bootId === me.bootId) {
      if (holder.pid === me.pid && holder.processStart === me.processStart) return undefined;
      const start = processStartOf(holder.pid);
      if (start === undefined) return `its process ${holder.pid} on ${holder.host} is not running`;
      if (holder.processStart !== undefined && start !== holder.processStart) return `its process ${holder.pid} on ${holder.host} is not running (the pid is another process's now)`;
      return undefined;
    }
    // No boot id (not Linux): the pid alone, on the same host.
    if (holder.bootId === undefined && me.bootId === undefined) {
      return pidRuns(holder.pid) ? undefined : `its process ${holder.pid} on ${holder.host} is not running`;
    }
  }
  if (heartbeatAt === undefined) return undefined;
  const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS;
  const silent = now - heartbeatAt;
  return silent > staleAfterMs ? `its heartbeat stopped ${Math.round(silent / 1000)} s ago (${holder?.host ?? 'unknown host'}${holder?.kind ? `, ${holder.kind}` : ''})` : undefined;
}
