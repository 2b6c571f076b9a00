/**
 * A device simulator: one dialect (a vendor's CLI, see dialect.ts) served over SSH and Telnet on
 * 127.0.0.1, with per-test faults and a record of every session.
 */
import type { DeviceFaults, Dialect } from './dialect.js';
import { startSsh, startTelnet, type SessionRecord } from './server.js';
import { FaultSwitch } from './terminal.js';

export type { DeviceFaults, Dialect } from './dialect.js';
export type { SessionRecord } from './server.js';

export interface DeviceSimulator {
  readonly host: string;
  readonly sshPort: number;
  readonly telnetPort: number;
  readonly dialect: Dialect;
  /** Replaces the fault switches (an empty object clears them). */
  setFaults(faults: DeviceFaults): void;
  /** Every session since the start, in the order they connected. */
  readonly sessions: readonly Readonly<SessionRecord>[];
  openSessions(): number;
  stop(): Promise<void>;
}

export interface DeviceSimulatorOptions {
  /** Offer only the algorithms of an old device (diffie-hellman-group14-sha1, ssh-rsa, aes128-cbc, hmac-sha1). */
  readonly legacySsh?: boolean;
}

export async function startDeviceSimulator(dialect: Dialect, options: DeviceSimulatorOptions = {}): Promise<DeviceSimulator> {
  const core = { dialect, faults: new FaultSwitch(), sessions: [] as SessionRecord[] };
  const ssh = await startSsh(core, options.legacySsh ?? false);
  const telnet = await startTelnet(core);
  return {
    host: '127.0.0.1',
    sshPort: ssh.port,
    telnetPort: telnet.port,
    dialect,
    setFaults: (faults) => core.faults.set(faults),
    sessions: core.sessions,
    openSessions: () => core.sessions.filter((s) => !s.closed).length,
    stop: async () => {
      await Promise.all([ssh.close(), telnet.close()]);
    },
  };
}
