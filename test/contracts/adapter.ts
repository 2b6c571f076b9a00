/**
 * The one contract every adapter passes, in the spirit of Vault's plugin test kit: a fixture says
 * how to reach its target (a real server or a simulator), create an account there, check a
 * password with an independent client and cut its connection; this suite knows the invariants
 * and runs them through the engine (ResetEngine, Configurator, RotationRunner on in-memory
 * stores), a guarded session as the engine opens it, and a FaultProxy in front of the target.
 * A new type gets all of it by adding a fixture to test/contracts/fixtures/index.ts.
 *
 * What each case shows, as a user would see it:
 *  1. an admin reset (and a self change where the fixture has mode 'self'): the new password logs
 *     in, the old one does not, AWSCURRENT holds it, the result names what proved it;
 *  2. the password gauntlet within the type's policy (every printable ASCII character it allows,
 *     Unicode where allowed, the maximum length, leading and trailing spaces, quotes, backslashes);
 *  3. a password the policy forbids is refused before a byte reaches the target, naming the field;
 *  4. user names carrying injection are refused at configuration (naming `username`) or reset so
 *     that only that account changed;
 *  5. a TCP cut before the change (nothing changed, no pending version) and after it (reconciled:
 *     the password AWSCURRENT holds is the one that works);
 *  6. an unreachable target (refused, silent) fails safe to retry and verify throws; one connection
 *     serves a group;
 *  7. the four Secrets Manager rotation steps, each run twice, change the password once;
 *  8. two resets of one account at once change it once;
 *  9. no password the stores were given, nor any the suite sent, appears in a log, error,
 *     result, audit entry, state item, or the target's own log.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigurationError, TargetTimeoutError, TargetUnchangedError } from '../../layers/engine/errors.js';
import { DIGITS, LOWER, UPPER, resolvePolicy, type Policy } from '../../layers/engine/policy.js';
import { Secret } from '../../layers/engine/secret.js';
import { PROVIDER_ANSWER } from '../../layers/engine/protocol.js';
import { AWSCURRENT, type AccountResult } from '../../layers/engine/stores/types.js';
import { REGISTRY } from '../../layers/resources/registry.js';
import type { ResourceType } from '../../layers/resources/common.js';
import { FaultProxy } from '../servers/proxy.js';
import { stillPending } from '../support/labels.js';
import { findLeaks } from '../support/leaks.js';
import { everyFormOf } from './credential-store.js';
import { openContractHarness, type ContractHarness } from './adapter-harness.js';

/** Where something listens. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/**
 * 'admin': an admin login (of the same resource) changes the account's password.
 * 'self': the account changes its own password with its current one.
 */
export type Mode = 'admin' | 'self';

/** What the suite runs against: a test server (harness/servers ServerName) or a simulator. */
export interface Against {
  readonly kind: 'real server' | 'simulator';
  /**
   * A test server: 'ssh' | 'telnet' | 'postgresql' | 'mariadb' | 'ldap' | 'samba'; or a simulator:
   * 'unix-shells:aix', 'unix-shells:hp-ux', 'unix-shells:solaris', 'unix-shells:macos',
   * 'unix-shells:esxi', 'windows-openssh', 'device:<type>' (test/simulators/device), 'https:<type>' (test/simulators/https). The support matrix test checks the descriptors'
   * `testedAgainst.using` against these.
   */
  readonly id: string;
}

/** A user name that carries injection for this target, and what the type must do with it. */
export interface InjectionName {
  readonly username: string;
  /**
   * 'refused': the type's user name rule refuses it when the account is configured
   * (InvalidConfigurationError naming `username`), and nothing is stored or changed.
   * 'reset': it is a legal name here; the fixture can create it, and a reset changes that
   * account only (a bystander account's password still works).
   */
  readonly expect: 'refused' | 'reset';
}

export interface ResourceRequest {
  /** The resource id the suite stores it under. */
  readonly id: string;
  readonly mode: Mode;
  /** Where to connect: the FaultProxy in front of `endpoint()`. */
  readonly at: Address;
  /**
   * The account id (`<resource id>/<user name>`) of the login the resource names: the admin's
   * in mode 'admin'; in mode 'self' the account itself for types whose self change needs a named
   * login (Unix `login.account`), which other types ignore.
   */
  readonly loginAccountId: string;
  /**
   * True in the cut cases: the proxy must see the conversation to cut it at the right moment.
   * Serve it in plain text where the type can (turn TLS off); a type that cannot (AD's
   * unicodePwd needs TLS, SSH is always encrypted) keeps it and cuts by its traffic's shape.
   */
  readonly plaintext: boolean;
}

export interface AdapterFixture {
  /** The describe title: type and target, e.g. "postgresql on PostgreSQL 15". */
  readonly name: string;
  readonly type: ResourceType;
  readonly against: Against;
  /** The modes the type supports here; the first is used where a case needs just one. */
  readonly modes: readonly Mode[];
  /** Why it cannot run here (server not running, simulator missing), or undefined when it can. */
  unavailable(): string | undefined;
  /** Once before the cases (start a simulator, check the server). Optional. */
  setup?(): Promise<void>;
  /** Once after the cases (stop the simulator, remove what setup created). Optional. */
  teardown?(): Promise<void>;
  /** Where the target listens; the suite puts a FaultProxy in front of it (valid after setup). */
  endpoint(): Address;
  /** The resource's configuration as a user writes it (the type's schema parses it); the suite adds its accounts. */
  resource(req: ResourceRequest): Record<string, unknown>;
  /**
   * Creates an account on the target with this password and returns its user name as the
   * type's accounts name it (a DN for LDAP). `admin: true`: a login able to reset others (a role
   * with CREATEROLE, a sudoer, an LDAP password admin), created once per suite and never reset by
   * it. `username`: create exactly this name (an injection name the fixture listed as 'reset');
   * otherwise a fresh unique one. The suite drops every account it created at the end.
   */
  createAccount(password: string, options?: { readonly admin?: boolean; readonly username?: string }): Promise<string>;
  /** Removes an account createAccount made; succeeds when it is gone already. */
  dropAccount(username: string): Promise<void>;
  /** An independent client (not the adapter): does this password log in as the account? */
  passwordWorks(username: string, password: string): Promise<boolean>;
  /**
   * Arms the proxy to cut the connection that carries the change: 'before' it reaches the target,
   * or 'after' it was sent and before its answer. The proxy is fresh and the adapter has not
   * connected yet. Plain-text protocols can use `proxy.cutWhenClientSends(pattern, when)`.
   */
  cut(proxy: FaultProxy, when: 'before' | 'after'): void | Promise<void>;
  /** User names carrying injection for this target (quotes, `;`, `$(…)`, backticks, DN or filter metacharacters, SQL comments). */
  readonly injectionNames: readonly InjectionName[];
  /**
   * Standalone secrets the fixture's resources name (an access key pair), by secret id: stored
   * before each resource is (valid after `createAccount` of the admin). Optional.
   */
  secrets?(): Readonly<Record<string, string>>;
  /**
   * Why the target closes every connection after one answer (moto's HTTP server sends
   * `Connection: close`), when it does: the group case then counts the sessions the engine opened
   * instead of TCP connections. Optional.
   */
  readonly closesEveryConnection?: string;
  /**
   * Why the adapter settles a cut connection itself, when it does (Graph: the read-back of
   * `lastPasswordChangeDateTime` shows whether the change landed, and the same change is sent
   * again when it did not): the cut cases then expect the reset to succeed, only one password
   * sent, the one AWSCURRENT holds working and the old one refused. Optional.
   */
  readonly settlesCuts?: string;
  /** What the target wrote to its own log during the suite, for the leak search. Optional. */
  serverLog?(): Promise<string>;
  /**
   * Whether to run the gauntlet's maximum-length password (some targets take minutes to hash a
   * long one, or cap it below the type's policy for a documented reason). Default true.
   */
  readonly gauntletMaxLength?: boolean;
}

/** The adapter's deadline for one network operation in the unreachable-target case. */
const UNREACHABLE_TIMEOUT_MS = 1_500;

/** A password unique to this suite run: `label` shows in assertion messages, never the value. */
function fresh(label: string): string {
  return `${label}-${randomBytes(6).toString('base64url')}-Aa1!`;
}

/** Passwords that stress quoting and encoding, each within the policy (and unique, for history rules). */
export function gauntlet(policy: Policy, options: { maxLength?: boolean } = {}): { label: string; password: string }[] {
  const allowed = (c: string) => !policy.forbidden.includes(c) && (policy.allowUnicode || c.codePointAt(0)! <= 0x7e);
  const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter(allowed);
  const max = Math.min(policy.maxLength, policy.maxBytes ?? Infinity);
  // The allowed characters of `text`, padded to the minimum, cut to the maximum in characters and bytes.
  const fit = (text: string) => {
    const padded = text.length < policy.minLength ? text + 'x'.repeat(policy.minLength - text.length) : text;
    // A character the type forbids first (a leading `!` on IOS) moves behind a letter: it is tried
    // there, since it is allowed anywhere else.
    const kept = [...padded].filter(allowed);
    if (kept.length > 0 && policy.forbiddenFirst.includes(kept[0]!)) kept.unshift('x');
    let out = '';
    for (const c of kept.slice(0, max)) {
      if (Buffer.byteLength(out + c) > (policy.maxBytes ?? Infinity)) break;
      out += c;
    }
    return withMinimums(out);
  };
  // The policy's minimums per class, where a short maximum cut away the unique suffix that carries
  // them otherwise (ALOM takes 8 characters and needs two letters and a digit or symbol): what is
  // missing replaces the end. A password that has them is left as it is.
  const minimums = [
    { min: policy.minLower, pick: [...LOWER].find(allowed) },
    { min: policy.minUpper, pick: [...UPPER].find(allowed) },
    { min: policy.minDigits, pick: [...DIGITS].find(allowed) },
    { min: policy.minSymbols, pick: [...policy.symbols].find(allowed) },
  ];
  const classOf = (c: string) => (LOWER.includes(c) ? 0 : UPPER.includes(c) ? 1 : DIGITS.includes(c) ? 2 : policy.symbols.includes(c) ? 3 : -1);
  function withMinimums(text: string): string {
    let tail = '';
    for (let round = 0; round < 4; round++) {
      const head = [...text].slice(0, Math.max(0, max - tail.length));
      while (head.length > 0 && Buffer.byteLength(head.join('') + tail) > (policy.maxBytes ?? Infinity)) head.pop();
      const whole = head.join('') + tail;
      const missing = minimums.flatMap(({ min, pick }, i) => {
        const have = [...whole].filter((c) => classOf(c) === i).length;
        return pick !== undefined && have < min ? [pick.repeat(min - have)] : [];
      });
      if (missing.length === 0) return whole;
      tail += missing.join('');
    }
    return text;
  }
  const out: { label: string; password: string }[] = [];
  // Every allowed printable character, in as few passwords as the maximum length needs, each made
  // unique by a suffix where there is room for one.
  const unique = fresh('');
  // Without room for the suffix, room for the class minimums `withMinimums` may put at the end; one
  // position fewer where a character is forbidden first, for the letter `fit` may put before it.
  const minimumsTotal = minimums.reduce((n, m) => n + (m.pick === undefined ? 0 : m.min), 0);
  const room = Math.max(1, (max > 2 * unique.length ? max - unique.length : max - minimumsTotal) - (policy.forbiddenFirst === '' ? 0 : 1));
  for (let i = 0; i < printable.length; i += room) out.push({ label: `printable ASCII from ${JSON.stringify(printable[i])}`, password: fit(printable.slice(i, i + room).join('') + unique) });
  out.push({ label: 'quotes and backslashes', password: fit(`'"\\'\\"\\\\ \`$(id)\` ; -- /* %s ?${fresh('q')}`) });
  out.push({ label: 'leading and trailing spaces', password: fit(`  ${fresh('space')}  `) });
  const notFirst = [...policy.forbiddenFirst].filter(allowed).join('');
  if (notFirst !== '') out.push({ label: `the characters forbidden first (${JSON.stringify(notFirst)}), past the first`, password: fit(`x${notFirst}${fresh('first')}`) });
  if (policy.allowUnicode) out.push({ label: 'Unicode', password: fit(`pässwörd-日本語-🔑-${fresh('u')}`) });
  if (options.maxLength !== false) {
    // The unique part's base64url may hold "-" or "_", which a type may forbid.
    const base = [...fresh('max')].filter(allowed).join('');
    out.push({ label: `the maximum length (${max})`, password: (base + 'Z'.repeat(max)).slice(0, max) });
  }
  return out;
}

/** Passwords the type's policy refuses, each with why. */
export function forbiddenPasswords(policy: Policy): { label: string; password: string }[] {
  const base = fresh('forbidden');
  const out = [
    { label: 'a newline', password: `${base}\nsecond-line` },
    { label: 'a NUL', password: `${base}\0after` },
    { label: `one character over the maximum (${policy.maxLength})`, password: (base + 'y'.repeat(policy.maxLength)).slice(0, policy.maxLength + 1) },
  ];
  for (const c of policy.forbidden) out.push({ label: `the forbidden ${JSON.stringify(c)}`, password: `${base}${c}` });
  for (const c of policy.forbiddenFirst) out.push({ label: `a leading ${JSON.stringify(c)}, forbidden first`, password: `${c}${base}`.slice(0, policy.maxLength) });
  if (!policy.allowUnicode) out.push({ label: 'a character outside ASCII', password: `${base}é` });
  return out;
}

async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
}

/** The contract, as one describe block of cases for one fixture. */
export function adapterContract(fixture: AdapterFixture): void {
  describe(`adapter contract: ${fixture.name}`, () => {
    let h: ContractHarness;
    let proxy: FaultProxy;
    const [firstMode] = fixture.modes;
    const modes = fixture.modes.map((m) => [m] as [Mode]);
    if (firstMode === undefined) throw new Error(`fixture ${fixture.name} names no mode`);
    const verification = REGISTRY.typeOf(fixture.type).verification;
    const proof = verification === 'login' ? 'logged in' : verification === 'attestation' ? 'confirmed by the target' : PROVIDER_ANSWER;

    beforeAll(async () => {
      await fixture.setup?.();
      h = await openContractHarness(fixture);
      proxy = await FaultProxy.start(fixture.endpoint());
    }, 120_000);
    afterAll(async () => {
      await proxy?.close();
      await h?.close();
      await fixture.teardown?.();
    }, 120_000);

    /** The type's policy as a resource of it gets it. */
    const policy = (): Policy => resolvePolicy(REGISTRY.typeOf(fixture.type).policy, undefined);
    /** A fresh password cut to the policy: its forbidden characters (base64url's "-" or "_") out, at most maxLength. */
    const withinPolicy = (password: string): string => [...password].filter((c) => !policy().forbidden.includes(c)).slice(0, policy().maxLength).join('');

    it.each(modes)('%s: the new password logs in, the old one does not, AWSCURRENT holds it, and the result names the proof', async (mode) => {
      const old = fresh('old');
      const { account, resourceId } = await h.resourceWithAccount(mode, proxy, old);

      const { results } = await h.run({ accountIds: [account.id] });

      expect(results, JSON.stringify(results)).toMatchObject([{ accountId: account.id, outcome: 'succeeded', proof }]);
      const current = await h.current(account.secretId);
      expect(current).not.toBe(old);
      expect(await fixture.passwordWorks(account.username, current)).toBe(true);
      expect(await fixture.passwordWorks(account.username, old)).toBe(false);
      const audit = await h.stores.state.listAudit({ accountId: account.id });
      expect(audit.some((a) => a.outcome === 'succeeded' && a.detail?.includes(proof)), JSON.stringify(audit)).toBe(true);
      expect(h.changes(resourceId)).toBe(1);
    });

    it('the password gauntlet within the type\'s policy: each password, set through the guarded session, logs in', async () => {
      let current = fresh('gauntlet-start');
      const { account, resourceId } = await h.resourceWithAccount(firstMode, proxy, current);
      const failed: string[] = [];
      await h.withSession(resourceId, async (session) => {
        for (const { label, password } of gauntlet(session.policy, { maxLength: fixture.gauntletMaxLength !== false })) {
          h.sent.add(password);
          try {
            await session.adapter.change({ account, newPassword: new Secret(password), currentPassword: new Secret(current) });
          } catch (e) {
            h.errors.push(everyFormOf(e));
            failed.push(`${label}: ${(e as Error).name}: ${(e as Error).message}`);
            continue;
          }
          if (await fixture.passwordWorks(account.username, password)) current = password;
          else failed.push(`${label}: does not log in after the change`);
        }
      });
      expect(failed).toEqual([]);
    });

    it('a password the policy forbids is refused before anything reaches the target, naming the field', async () => {
      const old = fresh('forbid-old');
      const { account, resourceId } = await h.resourceWithAccount(firstMode, proxy, old);
      const refused: string[] = [];
      for (const { label, password } of forbiddenPasswords(policy())) {
        h.sent.add(password);
        // A fresh session each time: nothing has connected yet, so any byte would be the change's.
        const bytes = await h.withSession(resourceId, async (session) => {
          const before = h.bytesSent(proxy);
          const e = await rejectionOf(session.adapter.change({ account, newPassword: new Secret(password), currentPassword: new Secret(old) }));
          h.errors.push(everyFormOf(e));
          if (!(e instanceof InvalidConfigurationError) || e.field !== 'newPassword') refused.push(`${label}: ${(e as Error).name} (${(e as InvalidConfigurationError).field ?? 'no field'})`);
          return h.bytesSent(proxy) - before;
        });
        if (bytes !== 0) refused.push(`${label}: ${bytes} bytes reached the target`);
      }
      expect(refused).toEqual([]);
      expect(await fixture.passwordWorks(account.username, old)).toBe(true);
    });

    it('user names carrying injection are refused at configuration, or reset so that only their own account changed', async () => {
      const bystanderPassword = fresh('bystander');
      const { account: bystander, resourceId } = await h.resourceWithAccount(firstMode, proxy, bystanderPassword);
      const wrong: string[] = [];
      for (const { username, expect: expected } of fixture.injectionNames) {
        const start = fresh('inject-old');
        if (expected === 'refused') {
          const e = await rejectionOf(h.addAccount(resourceId, username, start));
          h.errors.push(everyFormOf(e));
          if (!(e instanceof InvalidConfigurationError) || e.field !== 'username') wrong.push(`${JSON.stringify(username)}: not refused naming username (${(e as Error).name}: ${(e as Error).message})`);
          if (await h.stores.state.getAccount(`${resourceId}/${username}`)) wrong.push(`${JSON.stringify(username)}: stored although refused`);
          continue;
        }
        const created = await h.createAccount(start, { username });
        const account = await h.addAccount(resourceId, created, start);
        const { results } = await h.run({ accountIds: [account.id] });
        const now = await h.current(account.secretId);
        if (results[0]?.outcome !== 'succeeded') wrong.push(`${JSON.stringify(username)}: ${results[0]?.outcome} ${results[0]?.message ?? ''}`);
        else if (!(await fixture.passwordWorks(created, now))) wrong.push(`${JSON.stringify(username)}: the new password does not log in`);
        else if (await fixture.passwordWorks(created, start)) wrong.push(`${JSON.stringify(username)}: the old password still logs in`);
      }
      expect(wrong).toEqual([]);
      expect(await fixture.passwordWorks(bystander.username, bystanderPassword)).toBe(true);
    });

    /** A reset of a new account through a proxy of its own, cut where the fixture arms it. */
    async function resetWithCut(mode: Mode, when: 'before' | 'after') {
      const old = fresh(`cut-${when}`);
      const cutProxy = await FaultProxy.start(fixture.endpoint());
      try {
        const { account } = await h.resourceWithAccount(mode, cutProxy, old, { plaintext: true });
        await fixture.cut(cutProxy, when);
        const { results } = await h.run({ accountIds: [account.id] });
        return { old, account, result: results[0] as AccountResult };
      } finally {
        await cutProxy.close();
      }
    }

    /** For an adapter that settles a cut itself (fixture.settlesCuts): the reset succeeded with one password, which works. */
    async function expectSettled(old: string, account: { resourceId: string; username: string; secretId: string }, result: AccountResult) {
      expect(result, JSON.stringify(result)).toMatchObject({ outcome: 'succeeded' });
      const current = await h.current(account.secretId);
      expect(current).not.toBe(old);
      expect(h.distinctChanges(account.resourceId)).toBe(1);
      expect(await fixture.passwordWorks(account.username, current)).toBe(true);
      expect(await fixture.passwordWorks(account.username, old)).toBe(false);
      expect(stillPending(await h.credentials.listVersions(account.secretId))).toEqual([]);
    }

    it.each(modes)('%s: a TCP cut before the change reaches the target: nothing changed, AWSCURRENT still works, no pending version is left', async (mode) => {
      const { old, account, result } = await resetWithCut(mode, 'before');
      if (fixture.settlesCuts) return expectSettled(old, account, result);

      // The cut happened where it was armed: set failed, safe to retry; or, where the client cannot
      // tell whether a request it wrote arrived, reconcile found nothing changed and rolled back.
      if (result.step === 'reconcile') expect(result, JSON.stringify(result)).toMatchObject({ outcome: 'rolled-back', errorClass: 'OutcomeUnknownError' });
      else expect(result, JSON.stringify(result)).toMatchObject({ outcome: 'failed', step: 'set', errorClass: expect.stringMatching(/^(TargetUnchangedError|TargetTimeoutError)$/) });
      expect(await h.current(account.secretId)).toBe(old);
      expect(await fixture.passwordWorks(account.username, old)).toBe(true);
      expect(stillPending(await h.credentials.listVersions(account.secretId))).toEqual([]);
    });

    it.each(modes)('%s: a TCP cut after the change was sent, before its answer: the engine reconciles, and the password AWSCURRENT holds is the one that works', async (mode) => {
      const { old, account, result } = await resetWithCut(mode, 'after');
      if (fixture.settlesCuts) return expectSettled(old, account, result);

      // The cut happened after the change was sent: the outcome was unknown and reconcile settled
      // it, or the adapter proved on the spot that the change had not landed.
      // Or the adapter settled the lost answer itself by sending the same password again (Salesforce).
      if (result.step === 'reconcile') expect(result, JSON.stringify(result)).toMatchObject({ errorClass: 'OutcomeUnknownError' });
      else if (result.outcome === 'succeeded') expect(['set', 'test', 'finish'], JSON.stringify(result)).toContain(result.step);
      else expect(result, JSON.stringify(result)).toMatchObject({ step: 'set', outcome: 'failed', errorClass: 'TargetUnchangedError' });
      expect(['succeeded', 'rolled-back', 'failed'], JSON.stringify(result)).toContain(result.outcome);
      const current = await h.current(account.secretId);
      expect(await fixture.passwordWorks(account.username, current), JSON.stringify(result)).toBe(true);
      if (current !== old) expect(await fixture.passwordWorks(account.username, old)).toBe(false);
      expect(stillPending(await h.credentials.listVersions(account.secretId))).toEqual([]);
    });

    it('an unreachable target (connection refused, then silent): the change fails as safe to retry, verify throws rather than calling the password wrong, nothing changed', async () => {
      const old = fresh('unreachable');
      const deadProxy = await FaultProxy.start(fixture.endpoint());
      const wrong: string[] = [];
      let username: string | undefined;
      try {
        const { account, resourceId } = await h.resourceWithAccount(firstMode, deadProxy, old);
        username = account.username;
        // Refused: TargetUnchangedError, retryable; silent: TargetTimeoutError within the deadline.
        const attempt = (what: string, expected: typeof TargetUnchangedError | typeof TargetTimeoutError) =>
          h.withSession(resourceId, async (session) => {
            const started = Date.now();
            const changed = await rejectionOf(session.adapter.change({ account, newPassword: new Secret(withinPolicy(fresh('never'))), currentPassword: new Secret(old) }));
            h.errors.push(everyFormOf(changed));
            if (!(changed instanceof expected)) wrong.push(`${what}: change failed with ${(changed as Error).name}: ${(changed as Error).message}`);
            if (changed instanceof TargetUnchangedError && !changed.retryable) wrong.push(`${what}: the change's error says a retry is not safe`);
            // A type that cannot prove a password (verification none) has no probe to fail.
            if (verification !== 'none') {
              const verified = await rejectionOf(session.adapter.verify({ account, password: new Secret(old) }));
              h.errors.push(everyFormOf(verified));
              if (!(verified instanceof expected)) wrong.push(`${what}: verify failed with ${(verified as Error).name}: ${(verified as Error).message}`);
            }
            if (Date.now() - started > 4 * UNREACHABLE_TIMEOUT_MS + 5_000) wrong.push(`${what}: took ${Date.now() - started} ms`);
          }, { timeoutMs: UNREACHABLE_TIMEOUT_MS });
        deadProxy.refuseNew(true);
        await attempt('refused', TargetUnchangedError);
        deadProxy.refuseNew(false);
        deadProxy.blackhole(true);
        await attempt('silent', TargetTimeoutError);
      } finally {
        await deadProxy.close();
      }
      expect(wrong).toEqual([]);
      expect(await fixture.passwordWorks(username!, old)).toBe(true);
    });

    it.runIf(fixture.modes.includes('admin'))('admin: one connection serves every account of the group (and one fresh login proves each)', async () => {
      const groupProxy = await FaultProxy.start(fixture.endpoint());
      try {
        const first = fresh('group');
        const { account, resourceId } = await h.resourceWithAccount('admin', groupProxy, first);
        const accounts = [{ account, old: first }];
        for (let i = 0; i < 2; i++) {
          const old = fresh('group');
          accounts.push({ account: await h.addAccount(resourceId, await h.createAccount(old), old), old });
        }

        const { results } = await h.run({ resourceIds: [resourceId], accountIds: accounts.map((a) => a.account.id) });

        expect(results.map((r) => r.outcome), JSON.stringify(results)).toEqual(['succeeded', 'succeeded', 'succeeded']);
        if (fixture.closesEveryConnection) expect(h.adaptersOpened(resourceId)).toBe(1);
        else expect(groupProxy.connections).toBeLessThanOrEqual(1 + accounts.length);
        for (const { account: a, old } of accounts) {
          expect(await fixture.passwordWorks(a.username, await h.current(a.secretId))).toBe(true);
          expect(await fixture.passwordWorks(a.username, old)).toBe(false);
        }
      } finally {
        await groupProxy.close();
      }
    });

    it('the four rotation steps, each run twice with the same token, change the password once and end with it working', async () => {
      const old = fresh('rotate');
      const { account, resourceId } = await h.resourceWithAccount(firstMode, proxy, old);
      const token = randomUUID();

      for (const step of ['create', 'set', 'test', 'finish'] as const) {
        await h.rotate(step, account.secretId, token);
        await h.rotate(step, account.secretId, token);
      }

      const current = await h.credentials.getValue(account.secretId, { stage: AWSCURRENT });
      expect(current.versionId).toBe(token);
      // A type that cannot probe sends the same pending password again on the retried set (its
      // change is repeatable); every other type sends it once.
      if (verification === 'none') expect(h.distinctChanges(resourceId)).toBe(1);
      else expect(h.changes(resourceId)).toBe(1);
      expect(await fixture.passwordWorks(account.username, current.value.reveal())).toBe(true);
      expect(await fixture.passwordWorks(account.username, old)).toBe(false);
    });

    it('two resets of one account at once: one changes it, the other is refused, and AWSCURRENT works', async () => {
      const old = fresh('race');
      const { account, resourceId } = await h.resourceWithAccount(firstMode, proxy, old);

      // The first change is held a moment, so the two runs surely overlap.
      const [a, b] = await h.holdingChanges(resourceId, () => Promise.all([h.run({ accountIds: [account.id] }), h.run({ accountIds: [account.id] })]));

      const outcomes = [...a.results, ...b.results].map((r) => r.outcome).sort();
      expect(outcomes, JSON.stringify([a.results, b.results])).toContain('succeeded');
      expect(outcomes.filter((o) => o === 'succeeded')).toHaveLength(1);
      expect(h.changes(resourceId)).toBe(1);
      expect(await fixture.passwordWorks(account.username, await h.current(account.secretId))).toBe(true);
    });

    it('(last) no password appears in a log, error, result, audit entry, state item, or the target\'s log', async () => {
      const passwords = new Set([...h.written, ...h.sent]);
      expect(passwords.size).toBeGreaterThan(10);
      const haystacks: Record<string, string> = await h.everything();
      if (fixture.serverLog) {
        haystacks["the target's log"] = await fixture.serverLog();
        expect(haystacks["the target's log"].length, "the target's log is read").toBeGreaterThan(0);
      }
      expect(haystacks.logs?.length).toBeGreaterThan(1000);
      expect(findLeaks(passwords, haystacks)).toEqual([]);
    });
  });
}
