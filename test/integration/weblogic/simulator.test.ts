// The WebLogic REST simulator on its own, through fetch (not the adapter): what Oracle documents
// beyond the adapter's own requests, so the simulator is faithful to WebLogic rather than to us.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeblogicSimulator, type WeblogicSimulator } from '../../simulators/https/weblogic.js';

let sim: WeblogicSimulator;
const ADMIN = { username: 'weblogic', password: `Adm-${randomBytes(6).toString('hex')}` };
const ALICE = { username: 'alice', password: `Alice-${randomBytes(6).toString('hex')}` };
const BOB = { username: 'bob', password: `Bob-${randomBytes(6).toString('hex')}` };

beforeAll(async () => {
  sim = await startWeblogicSimulator();
  sim.addUser({ ...ADMIN, groups: ['Administrators'] });
  sim.addUser({ ...ALICE, groups: ['Monitors'] });
  sim.addUser({ ...BOB, groups: ['Operators'] });
});
afterAll(async () => sim?.stop());

const PROVIDER = '/serverConfig/securityConfiguration/realms/myrealm/authenticationProviders/DefaultAuthenticator';

async function send(path: string, as: { username: string; password: string } | undefined, body?: unknown, headers: Record<string, string> = { 'x-requested-by': 'MyClient', 'content-type': 'application/json' }) {
  const res = await fetch(`${sim.origin}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { accept: 'application/json', ...(as ? { authorization: `Basic ${Buffer.from(`${as.username}:${as.password}`).toString('base64')}` } : {}), ...(body === undefined ? {} : headers) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}

describe('the WebLogic RESTful management API simulator', () => {
  it('authenticates every request, even for a path it does not have', async () => {
    expect((await send('/management/weblogic/latest/nothing', undefined)).status).toBe(401);
    expect((await send('/management/weblogic/latest/nothing', ADMIN)).status).toBe(404);
  });

  it('takes an explicit version as well as latest', async () => {
    expect((await send(`/management/weblogic/12.2.1.4${PROVIDER}`, ADMIN)).status).toBe(200);
    expect((await send(`/management/weblogic/9.9${PROVIDER}`, ADMIN)).status).toBe(404);
  });

  it('answers an operation 200 with {} and changes the password', async () => {
    const next = `Alice-${randomBytes(6).toString('hex')}`;
    const r = await send(`/management/weblogic/latest${PROVIDER}/resetUserPassword`, ADMIN, { userName: ALICE.username, newPassword: next });
    expect(r).toEqual({ status: 200, body: {} });
    expect(sim.passwordIs(ALICE.username, next)).toBe(true);
    ALICE.password = next;
  });

  it('refuses a body that is not JSON (415) and a missing parameter (400 with the error body)', async () => {
    expect((await send(`/management/weblogic/latest${PROVIDER}/resetUserPassword`, ADMIN, 'userName=alice', { 'x-requested-by': 'x', 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    const r = await send(`/management/weblogic/latest${PROVIDER}/resetUserPassword`, ADMIN, { userName: ALICE.username });
    expect(r).toMatchObject({ status: 400, body: { title: 'FAILURE', status: 400, detail: expect.stringContaining('newPassword') } });
  });

  it('lets a user change its own password with the right old one, and refuses a wrong one (400)', async () => {
    const next = `Bob-${randomBytes(6).toString('hex')}`;
    expect((await send(`/management/weblogic/latest${PROVIDER}/changeUserPassword`, BOB, { userName: BOB.username, oldPassword: 'not-it-at-all', newPassword: next })).status).toBe(400);
    expect((await send(`/management/weblogic/latest${PROVIDER}/changeUserPassword`, BOB, { userName: BOB.username, oldPassword: BOB.password, newPassword: next })).status).toBe(200);
    expect(sim.passwordIs(BOB.username, next)).toBe(true);
    BOB.password = next;
  });

  it("refuses a non-administrator another user's password, by either operation (403)", async () => {
    expect((await send(`/management/weblogic/latest${PROVIDER}/changeUserPassword`, BOB, { userName: ALICE.username, oldPassword: ALICE.password, newPassword: 'Whatever-123' })).status).toBe(403);
    expect((await send(`/management/weblogic/latest${PROVIDER}/resetUserPassword`, BOB, { userName: ALICE.username, newPassword: 'Whatever-123' })).status).toBe(403);
    expect(sim.passwordIs(ALICE.username, ALICE.password)).toBe(true);
  });

  it('answers an unknown user 404 and a password under MinimumPasswordLength 400, nothing changed', async () => {
    expect((await send(`/management/weblogic/latest${PROVIDER}/resetUserPassword`, ADMIN, { userName: 'nobody', newPassword: 'Long-enough-1' })).status).toBe(404);
    const r = await send(`/management/weblogic/latest${PROVIDER}/resetUserPassword`, ADMIN, { userName: ALICE.username, newPassword: 'short' });
    expect(r).toMatchObject({ status: 400, body: { title: 'FAILURE', detail: 'The password must be at least 8 characters long.' } });
    expect(sim.passwordIs(ALICE.username, ALICE.password)).toBe(true);
  });

  it('keeps no password in clear: the log names users only', () => {
    const log = sim.log.join('\n');
    for (const p of [ADMIN.password, ALICE.password, BOB.password]) expect(log).not.toContain(p);
    expect(JSON.stringify(sim.user(ALICE.username))).not.toContain(ALICE.password);
  });
});
