import { describe, expect, it } from 'vitest';
import { deviceUsername, promptSchema } from '../../../../layers/resources/network-device/fields.js';

describe('device prompts', () => {
  it.each(['# ?$', '\\(config[^)]*\\)# ?$', '</>hpiLO-> ?$', 'Switch>'])('take %j', (prompt) => {
    expect(promptSchema.safeParse(prompt).success).toBe(true);
  });

  it.each([
    ['', /at least 1|too small/i],
    ['#\n', /one line/],
    ['(unclosed', /valid regular expression/],
    ['.*', /empty string/],
    ['x?', /empty string/],
    ['x'.repeat(201), /.+/],
  ])('refuse %j', (prompt, why) => {
    const result = promptSchema.safeParse(prompt);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(why);
  });
});

describe('device user names', () => {
  const name = deviceUsername(16);
  it.each(['admin', 'ops.team', 'a_b-c@x', '_svc', 'x'.repeat(16)])('take %j', (u) => expect(name.safeParse(u).success).toBe(true));
  it.each(['a b', 'a?', '-x', '.x', 'x'.repeat(17), 'a"b', "a'b", 'a\tb', ''])('refuse %j', (u) => expect(name.safeParse(u).success).toBe(false));
});
