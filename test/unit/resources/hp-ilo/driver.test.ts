import { describe, expect, it } from 'vitest';
import { OutcomeUnknownError, TargetUnchangedError } from '../../../../layers/engine/errors.js';
import { Log } from '../../../../layers/engine/log.js';
import { Redactor } from '../../../../layers/engine/redact.js';
import { Secret } from '../../../../layers/engine/secret.js';
import { DeviceSession } from '../../../../layers/expect/device.js';
import { hpIloDriver } from '../../../../layers/resources/hp-ilo/driver.js';
import { hpIloSchema } from '../../../../layers/resources/hp-ilo/schema.js';
import { FakeStream } from '../../expect/fake-stream.js';

const resource = hpIloSchema.parse({ id: 'ilo', type: 'hp-ilo', host: 'ilo.example', adminAccount: 'ilo/Administrator' });
const bob = { id: 'ilo/bob', resourceId: 'ilo', username: 'bob', secretId: 's/bob', tags: [] };
const PROMPT = '\r\n</>hpiLO-> ';

/** A session on a fake iLO whose answer to the `set` is `answer` (DSP0214's status lines). */
async function changeAnswered(answer: string, password = 'Qz8 kx7 Vm2 p'): Promise<{ stream: FakeStream; run: Promise<unknown> }> {
  const stream = new FakeStream();
  stream.onWrite = (text) => {
    if (text === '\n' && stream.sent.includes('set /map1')) queueMicrotask(() => stream.push(`${answer}${PROMPT}`));
    else if (text === 'exit\n') queueMicrotask(() => stream.emitClose({}));
  };
  const opening = DeviceSession.open(stream, hpIloDriver.dialect(resource), { redactor: new Redactor(), timeoutMs: 500 });
  stream.push(`User:Administrator logged-in to ILO.${PROMPT}`);
  const session = await opening;
  const run = hpIloDriver
    .change({ resource, account: bob, newPassword: new Secret(password), session, credentials: {}, log: new Log({ level: 'SILENT', redactor: new Redactor() }) })
    .finally(() => session.close());
  return { stream, run };
}

describe('hp-ilo driver: the CLP status lines', () => {
  it('types the password as one CLP value, double-quoted when it holds a space', async () => {
    const { stream, run } = await changeAnswered('status=0\r\nstatus_tag=COMMAND COMPLETED\r\n');
    await expect(run).resolves.toEqual({ method: 'admin reset' });
    expect(stream.sent).toContain('set /map1/accounts1/bob password="Qz8 kx7 Vm2 p"\n');
    const bare = await changeAnswered('status=0\r\nstatus_tag=COMMAND COMPLETED\r\n', 'NoSpaces-99');
    await bare.run;
    expect(bare.stream.sent).toContain('set /map1/accounts1/bob password=NoSpaces-99\n');
  });

  it('status=2 (COMMAND PROCESSING FAILED) is unchanged, with the message', async () => {
    const { run } = await changeAnswered('status=2\r\nstatus_tag=COMMAND PROCESSING FAILED\r\nerror_tag=COMMAND ERROR-UNSPECIFIED\r\n\r\nPassword is too long.\r\n');
    const e = await run.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TargetUnchangedError);
    expect((e as Error).message).toContain('Password is too long.');
  });

  it('status=3 (COMMAND EXECUTION FAILED), or no status at all, is outcome unknown', async () => {
    for (const answer of ['status=3\r\nstatus_tag=COMMAND EXECUTION FAILED\r\nerror_tag=COMMAND ERROR-UNSPECIFIED\r\n', 'Connection to the user database lost\r\n']) {
      const { run } = await changeAnswered(answer);
      await expect(run).rejects.toBeInstanceOf(OutcomeUnknownError);
    }
  });
});
