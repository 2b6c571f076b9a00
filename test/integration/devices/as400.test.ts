/**
 * The as400 driver (layers/resources/service-processor/as400-driver.ts) through the device
 * adapter, over SSH against the simulated IBM i (test/simulators/device/ibm-i.ts) served by the
 * device simulators' core: a self change and an admin reset proven by a fresh ssh2 login, the
 * refusals "unchanged", a cut right after the change reconciled, a custom command set, and no
 * password on any command line, in the job log or in the history.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { ibmI, type IbmISimulator } from '../../simulators/device/ibm-i.js';
import { startDeviceSimulator, type DeviceSimulator } from '../../simulators/device/index.js';
import { account, as400Adapter, as400Resource, credential, sshLoginWorks } from './as400-support.js';

let ibm: IbmISimulator;
let sim: DeviceSimulator;
let n = 0;

beforeAll(async () => {
  // QMAXSIGN is IBM's default 3 elsewhere; here every old-password proof counts, so it is raised.
  ibm = ibmI({ systemValues: { QMAXSIGN: 1000 } });
  ibm.addProfile('SECADM1', 'Officer-pw9', { special: ['*SECADM'] });
  sim = await startDeviceSimulator(ibm.dialect);
});

afterAll(async () => {
  await sim.stop();
});

afterEach(() => {
  sim.setFaults({});
  expect(ibm.unexpected).toEqual([]);
});

/** A fresh profile with a password. */
function user(password: string): string {
  const name = `U${++n}X`;
  ibm.addProfile(name, password);
  return name;
}

/** Every place the system keeps a command line or a log line: no password may be in one. */
function traces(): string {
  return [...ibm.commandLines, ...ibm.joblog, ...ibm.history].join('\n');
}

const adminResource = () => as400Resource(sim, { adminAccount: 'ibmi-test/SECADM1' });
const adminCredentials = () => ({ admin: credential('SECADM1', 'Officer-pw9') });

describe('as400 over SSH on the simulated IBM i', () => {
  it('changes its own password (QSYCHGPW *CURRENT), proven by a fresh SSH login; none on a command line, in the job log or the history', async () => {
    const name = user('Old-pass-1a');
    const adapter = as400Adapter(as400Resource(sim));
    const next = 'New-pass-2b%s\\t$HOME`id`"';
    try {
      const result = await adapter.change({ account: account(name), newPassword: new Secret(next), currentPassword: new Secret('Old-pass-1a') });
      expect(result.method).toContain('self change');
      expect(await adapter.verify({ account: account(name), password: new Secret(next) })).toEqual({ valid: true });
    } finally {
      await adapter.close();
    }
    expect(await sshLoginWorks(sim, name, next)).toBe(true);
    expect(await sshLoginWorks(sim, name, 'Old-pass-1a')).toBe(false);
    for (const secret of ['Old-pass-1a', next]) expect(traces()).not.toContain(secret);
    expect(ibm.commandLines.filter((l) => l.includes('bash'))).toContain('/QOpenSys/pkgs/bin/bash');
  });

  it('resets another profile as the *SECADM admin (QSYCHGPW *NOPWD), proven by a fresh SSH login', async () => {
    const name = user('Old-pass-3c');
    const adapter = as400Adapter(adminResource(), adminCredentials());
    try {
      const result = await adapter.change({ account: account(name), newPassword: new Secret('Reset-pass-4d') });
      expect(result.method).toContain('admin reset');
    } finally {
      await adapter.close();
    }
    expect(await sshLoginWorks(sim, name, 'Reset-pass-4d')).toBe(true);
    expect(ibm.checkPassword('SECADM1', 'Officer-pw9')).toBe(true);
    expect(traces()).not.toContain('Reset-pass-4d');
    expect(sim.openSessions()).toBe(0);
  });

  it('a wrong current password is "unchanged": the SSH sign-on refuses it (CPF22E2) before anything is typed', async () => {
    const name = user('Right-pass-5e');
    const adapter = as400Adapter(as400Resource(sim));
    const before = ibm.statements.length;
    try {
      const err = await adapter.change({ account: account(name), newPassword: new Secret('Next-pass-7g'), currentPassword: new Secret('Wrong-pass-6f') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthenticationError);
      expect((err as AuthenticationError).targetMayHaveChanged).toBe(false);
      expect((err as Error).message).not.toContain('Wrong-pass-6f');
    } finally {
      await adapter.close();
    }
    expect(ibm.statements.length).toBe(before);
    expect(ibm.checkPassword(name, 'Right-pass-5e')).toBe(true);
  });

  it('a CPF22E2 the CALL itself sends (the current password the API checks) is "unchanged"', async () => {
    const name = user('Old-pass-22v');
    // The simulator's refusal switch: the API answers as for a wrong current password, nothing applied.
    sim.setFaults({ refuse: `CPF22E2: Password not correct for user profile ${name}.` });
    const adapter = as400Adapter(as400Resource(sim));
    try {
      const err = await adapter.change({ account: account(name), newPassword: new Secret('Next-pass-23w'), currentPassword: new Secret('Old-pass-22v') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TargetUnchangedError);
      expect((err as Error).message).toContain('CPF22E2');
    } finally {
      await adapter.close();
    }
    expect(ibm.checkPassword(name, 'Old-pass-22v')).toBe(true);
  });

  it('a QPWD* rule the new password breaks is "unchanged" with its message id', async () => {
    const name = user('Old-pass-8h');
    ibm.setSystemValue('QPWDRQDDGT', true);
    const adapter = as400Adapter(adminResource(), adminCredentials());
    try {
      const err = await adapter.change({ account: account(name), newPassword: new Secret('No-digits-here') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TargetUnchangedError);
      expect((err as Error).message).toContain('CPF22C9');
      expect((err as Error).message).not.toContain('No-digits-here');
      // The admin session goes on after a refusal: the next account is reset on it.
      const other = user('Old-pass-9i');
      await adapter.change({ account: account(other), newPassword: new Secret('With-digit-10j') });
      expect(await sshLoginWorks(sim, other, 'With-digit-10j')).toBe(true);
    } finally {
      ibm.setSystemValue('QPWDRQDDGT', false);
      await adapter.close();
    }
    expect(ibm.checkPassword(name, 'Old-pass-8h')).toBe(true);
  });

  it('an officer without *SECADM is "unchanged" (not authorized)', async () => {
    ibm.addProfile('PLAIN1', 'Plain-pw-11k');
    const name = user('Old-pass-12l');
    const adapter = as400Adapter(as400Resource(sim, { adminAccount: 'ibmi-test/PLAIN1' }), { admin: credential('PLAIN1', 'Plain-pw-11k') });
    try {
      const err = await adapter.change({ account: account(name), newPassword: new Secret('Next-pass-13m') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TargetUnchangedError);
      expect((err as Error).message).toContain('CPF2217');
    } finally {
      await adapter.close();
    }
    expect(ibm.checkPassword(name, 'Old-pass-12l')).toBe(true);
  });

  it('a cut right after the change is applied is "outcome unknown", and the new password is the one that works', async () => {
    const name = user('Old-pass-14n');
    sim.setFaults({ cut: { cut: 'applied' } });
    const adapter = as400Adapter(adminResource(), adminCredentials());
    try {
      const err = await adapter.change({ account: account(name), newPassword: new Secret('Cut-pass-15o') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutcomeUnknownError);
      // Reconcile: the engine proves which password works.
      expect(await adapter.verify({ account: account(name), password: new Secret('Cut-pass-15o') })).toEqual({ valid: true });
      expect((await adapter.verify({ account: account(name), password: new Secret('Old-pass-14n') })).valid).toBe(false);
    } finally {
      await adapter.close();
    }
  });

  it('an answer that is neither a known refusal nor the success is "outcome unknown", and the session is not reused', async () => {
    const name = user('Old-pass-20t');
    sim.setFaults({ refuse: 'SQL0901 SQL system error.' });
    const adapter = as400Adapter(adminResource(), adminCredentials());
    try {
      const err = await adapter.change({ account: account(name), newPassword: new Secret('Next-pass-21u') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutcomeUnknownError);
      expect((err as Error).message).toContain('SQL0901');
      expect((err as Error).message).not.toContain('Next-pass-21u');
    } finally {
      await adapter.close();
    }
    expect(ibm.checkPassword(name, 'Old-pass-20t')).toBe(true);
    expect(sim.openSessions()).toBe(0);
  });

  it('without bash (a bsh login shell, no open-source bash) the change is "unchanged", nothing typed', async () => {
    const bare = ibmI({ shell: 'bsh', bashInstalled: false });
    bare.addProfile('BOB', 'Old-pass-16p');
    const s = await startDeviceSimulator(bare.dialect);
    const adapter = as400Adapter(as400Resource(s), {});
    try {
      const err = await adapter.change({ account: account('BOB'), newPassword: new Secret('New-pass-17q'), currentPassword: new Secret('Old-pass-16p') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TargetUnchangedError);
      expect((err as Error).message).toContain('/QOpenSys/pkgs/bin/bash');
      expect(bare.checkPassword('BOB', 'Old-pass-16p')).toBe(true);
      expect(bare.statements).toEqual([]);
    } finally {
      await adapter.close();
      await s.stop();
    }
    // The simulator recorded the missing bash as a command it did not know: expected here.
    expect(bare.unexpected).toEqual(['/QOpenSys/pkgs/bin/bash']);
  });

  it('runs a custom command set in place of the built-in change', async () => {
    const name = user('Old-pass-18r');
    const commandSet = {
      change: [
        "/QOpenSys/pkgs/bin/bash",
        "read -rs -p 'Password: ' P; echo",
        '{password}',
        // Without the optional length parameters QSYCHGPW takes 10 characters of each password.
        `printf "CALL QSYS.QSYCHGPW('%s', '*NOPWD', '%s', X'00000000')\\n" '{username}' "$P" | qsh -c db2; echo "rc=$?"; unset P`,
      ],
      success: ['DB20000I[\\s\\S]*rc=0'],
      refusals: ['CPF22[0-9A-F]{2}'],
    };
    const adapter = as400Adapter(as400Resource(sim, { adminAccount: 'ibmi-test/SECADM1', commandSet }), adminCredentials());
    try {
      const result = await adapter.change({ account: account(name), newPassword: new Secret('Custom-p19') });
      expect(result.method).toContain('custom command set');
    } finally {
      await adapter.close();
    }
    expect(await sshLoginWorks(sim, name, 'Custom-p19')).toBe(true);
    expect(traces()).not.toContain('Custom-p19');
  });
});
