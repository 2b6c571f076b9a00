import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import type { TargetAdapter } from '../../../layers/engine/adapter.js';
import { OutcomeUnknownError, TargetUnchangedError } from '../../../layers/engine/errors.js';
import { Secret } from '../../../layers/engine/secret.js';
import { createLdapAdapter } from '../../../layers/resources/ldap/adapter.js';
import { PASSWORD_MODIFY_OID } from '../../../layers/resources/ldap/password-modify.js';
import { uniqueName } from '../../../harness/servers/fixtures.js';
import { describeServer } from '../../../harness/servers/index.js';
import { FaultProxy } from '../../servers/proxy.js';
import { findLeaks } from '../../support/leaks.js';
import { EXTENDED_RESPONSE, MODIFY_RESPONSE, People, account, adminCredential, binds, context, cutWhenServerAnswers, resource } from './support.js';

/**
 * What only LDAP shows when the connection breaks: the cases the adapter contract
 * (test/contracts/adapter.ts: a cut at the first bind and after the Password Modify operation is
 * sent, in both modes; an unreachable target; one connection per group) does not know. The cut
 * may beat the server to an operation already written, so the client can never call that
 * unchanged. Faults are injected by a TCP proxy, so these connections are plain LDAP.
 */
describeServer('ldap', 'LDAP adapter: what the connection breaking shows only here', (info) => {
  const people = new People(info);
  const passwords = new Set<string>([info.adminPassword]);
  const seen: string[] = [];
  let proxy: FaultProxy;
  const adapters: TargetAdapter[] = [];

  function pw(label: string): string {
    const p = `${label}-${uniqueName('p')}`;
    passwords.add(p);
    return p;
  }
  function adapterThroughProxy(timeoutMs = 5_000, over: Partial<Record<string, unknown>> = {}): TargetAdapter {
    const r = resource(info, { host: proxy.host, port: proxy.port, ssl: false, caCertificate: undefined, ...over });
    const a = createLdapAdapter(context(r, adminCredential(info), [], timeoutMs));
    adapters.push(a);
    return a;
  }
  async function failure(p: Promise<unknown>): Promise<Error> {
    const e = await p.then(
      () => new Error('expected a failure'),
      (err: unknown) => err as Error,
    );
    seen.push(`${e.name}: ${e.message}\n${e.stack ?? ''}`);
    return e;
  }

  beforeEach(async () => {
    proxy = await FaultProxy.start({ host: info.host, port: info.port });
  });
  afterEach(async () => {
    for (const a of adapters.splice(0)) await a.close();
    await proxy.close();
  });
  afterAll(async () => {
    await people.cleanup();
  });

  it('the server applied the operation but its answer is lost: OutcomeUnknownError, and the new password works', async () => {
    const old = pw('Lost-old-1');
    const next = pw('Lost-new-1');
    const dn = await people.add(old);
    const adapter = adapterThroughProxy();
    cutWhenServerAnswers(proxy, EXTENDED_RESPONSE);

    const e = await failure(adapter.change({ account: account(dn), newPassword: new Secret(next) }));

    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect(await binds(info, dn, next)).toBe(true);
    expect(await binds(info, dn, old)).toBe(false);
    expect(await adapter.verify({ account: account(dn), password: new Secret(next) })).toEqual({ valid: true });
  });

  it('the same with a userPassword replace: the ModifyResponse is lost, OutcomeUnknownError, the new password works', async () => {
    const old = pw('Lost-old-2');
    const next = pw('Lost-new-2');
    const dn = await people.add(old);
    const adapter = adapterThroughProxy(5_000, { passwordChange: 'replace' });
    cutWhenServerAnswers(proxy, MODIFY_RESPONSE);

    const e = await failure(adapter.change({ account: account(dn), newPassword: new Secret(next) }));

    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect(await binds(info, dn, next)).toBe(true);
    expect(await binds(info, dn, old)).toBe(false);
  });

  it('connection cut as the operation is sent, before it reaches the server: still OutcomeUnknownError (the client cannot tell), and nothing changed', async () => {
    const old = pw('Cut-old-2');
    const dn = await people.add(old);
    const adapter = adapterThroughProxy();
    proxy.cutWhenClientSends(PASSWORD_MODIFY_OID, 'before');

    const e = await failure(adapter.change({ account: account(dn), newPassword: new Secret(pw('Cut-new-2')) }));

    expect(e).toBeInstanceOf(OutcomeUnknownError);
    expect(await binds(info, dn, old)).toBe(true);
  });

  it('connection cut during the admin bind, before any change: TargetUnchangedError, safe to retry, and the retry on the same adapter succeeds', async () => {
    const old = pw('Cut-old-3');
    const next = pw('Cut-new-3');
    const dn = await people.add(old);
    const adapter = adapterThroughProxy();
    proxy.cutWhenClientSends(info.adminDn, 'before');

    const e = await failure(adapter.change({ account: account(dn), newPassword: new Secret(next) }));
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as TargetUnchangedError).retryable).toBe(true);
    expect(await binds(info, dn, old)).toBe(true);

    await adapter.change({ account: account(dn), newPassword: new Secret(next) });
    expect(await binds(info, dn, next)).toBe(true);
  });

  it('the admin connection dropped between accounts: the next change opens a new one instead of running unbound', async () => {
    const [a, b] = [pw('Drop-a'), pw('Drop-b')];
    const [na, nb] = [pw('Drop-na'), pw('Drop-nb')];
    const dnA = await people.add(a);
    const dnB = await people.add(b);
    const adapter = adapterThroughProxy();

    await adapter.change({ account: account(dnA), newPassword: new Secret(na) });
    proxy.cutAll();
    await new Promise((r) => setTimeout(r, 50));
    await adapter.change({ account: account(dnB), newPassword: new Secret(nb) });

    expect(proxy.connections).toBe(2);
    expect(await binds(info, dnA, na)).toBe(true);
    expect(await binds(info, dnB, nb)).toBe(true);
  });

  it('a logged-in target that stops answering after the change is sent: OutcomeUnknownError, nothing changed', async () => {
    const old = pw('Hang-old-1');
    const dn = await people.add(old);
    const warmDn = await people.add(pw('Hang-warm'));
    const warm = adapterThroughProxy(1_000);
    await warm.change({ account: account(warmDn), newPassword: new Secret(pw('Hang-warm-2')) });
    proxy.blackhole(true);
    const after = await failure(warm.change({ account: account(dn), newPassword: new Secret(pw('Hang-new-2')) }));
    expect(after).toBeInstanceOf(OutcomeUnknownError);
    proxy.blackhole(false);

    expect(await binds(info, dn, old)).toBe(true);
  });

  it('one admin connection and one bind serve every account of the group; the root DSE is read once', async () => {
    const olds = [pw('Reuse-1'), pw('Reuse-2'), pw('Reuse-3')];
    const dns = [];
    for (const o of olds) dns.push(await people.add(o));
    let wire = '';
    proxy.onClientData((chunk) => {
      wire += chunk.toString('latin1');
    });
    const adapter = adapterThroughProxy();
    const news = dns.map(() => pw('Reuse-new'));
    for (const [i, dn] of dns.entries()) await adapter.change({ account: account(dn), newPassword: new Secret(news[i]!) });

    expect(proxy.connections).toBe(1);
    expect(wire.split(info.adminDn).length - 1).toBe(1);
    expect(wire.split('supportedExtension').length - 1).toBe(1);
    expect(wire.split(PASSWORD_MODIFY_OID).length - 1).toBe(3);
    for (const [i, dn] of dns.entries()) expect(await binds(info, dn, news[i]!)).toBe(true);
  });

  it('(last) no password appears in any error of this suite', () => {
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(findLeaks(passwords, { errors: seen.join('\n') })).toEqual([]);
  });
});
