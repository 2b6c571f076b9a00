import { InvalidConfigurationError } from '../engine/errors.js';
import type { Log } from '../engine/log.js';
import type { Secret } from '../engine/secret.js';
import type { LegacySshAlgorithms } from '../engine/ssh-algorithms.js';
import { DEVICE_PTY, SshConnection, type SshHostKeyCheck } from './ssh.js';
import type { Stream } from './stream.js';
import { connectTelnet } from './telnet.js';
import { DEVICE_CLIENT_OPTIONS } from './telnet-codec.js';

export interface DeviceStreamOptions {
  readonly protocol: 'ssh' | 'telnet';
  readonly host: string;
  readonly port: number;
  /** SSH: the user name of SSH authentication, required (a device whose CLI login needs none still gets one from SSH). Telnet: unused here (DeviceSession types it). */
  readonly username?: string;
  /** SSH: the password of SSH authentication. Telnet: unused here. */
  readonly password?: Secret;
  /** Checked on every SSH login before the password is sent. Telnet has no host key. */
  readonly hostKey: SshHostKeyCheck;
  /** The legacy SSH algorithms the resource names (`sshAlgorithms`); none by default. */
  readonly legacyAlgorithms?: LegacySshAlgorithms;
  readonly timeoutMs: number;
  readonly log?: Log;
}

export interface DeviceStream {
  /** The CLI's byte stream, for DeviceSession.open. */
  readonly stream: Stream;
  /** Tears the transport down (after DeviceSession.close has logged out). Never throws. */
  close(): Promise<void>;
}

/**
 * A device CLI's transport in one call. SSH: password authentication (refused: AuthenticationError),
 * the device algorithm offer (ssh2's modern defaults plus only the legacy ones named), then an
 * interactive shell on DEVICE_PTY. Telnet: a connection that negotiates window size and terminal type
 * (DEVICE_CLIENT_OPTIONS); its login is answered by DeviceSession.
 */
export async function openDeviceStream(options: DeviceStreamOptions): Promise<DeviceStream> {
  if (options.protocol === 'telnet') {
    const stream = await connectTelnet({ host: options.host, port: options.port, timeoutMs: options.timeoutMs, options: DEVICE_CLIENT_OPTIONS, ...(options.log ? { log: options.log } : {}) });
    return {
      stream,
      close: () => {
        stream.close();
        return Promise.resolve();
      },
    };
  }
  if (options.username === undefined || options.username === '') throw new InvalidConfigurationError('username', 'is required for an SSH login (SSH authentication always sends a user name)');
  const ssh = await SshConnection.connect({
    host: options.host,
    port: options.port,
    username: options.username,
    ...(options.password ? { password: options.password } : {}),
    hostKey: options.hostKey,
    timeoutMs: options.timeoutMs,
    legacyAlgorithms: options.legacyAlgorithms ?? {},
    ...(options.log ? { log: options.log } : {}),
  });
  let stream: Stream;
  try {
    stream = await ssh.shell(DEVICE_PTY);
  } catch (e) {
    await ssh.close();
    throw e;
  }
  return {
    stream,
    close: async () => {
      try {
        stream.close();
      } catch {
        // The channel is gone already.
      }
      await ssh.close();
    },
  };
}
