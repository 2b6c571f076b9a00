import { describe, expect, it } from 'vitest';
import { keyword, words } from '../../simulators/device/cli-words.js';

describe('device CLI words', () => {
  it('splits on blanks and takes a double-quoted string as one word', () => {
    expect(words('  set admin password "a b"  privilege all ')).toEqual(['set', 'admin', 'password', 'a b', 'privilege', 'all']);
    expect(words('user-name "ops"team')).toEqual(['user-name', 'opsteam']);
    expect(words('set admin password "unterminated one')).toEqual(['set', 'admin', 'password', 'unterminated one']);
    expect(words('say ""')).toEqual(['say', '']);
    expect(words('   ')).toEqual([]);
  });

  it('takes a keyword by its exact name or a unique prefix, in any case, and refuses an ambiguous one', () => {
    const known = ['enable', 'end', 'exit', 'configure'] as const;
    expect(keyword('conf', known)).toBe('configure');
    expect(keyword('EXI', known)).toBe('exit');
    expect(keyword('end', known)).toBe('end');
    expect(keyword('en', known)).toBeUndefined();
    expect(keyword('e', known)).toBeUndefined();
    expect(keyword('configuration', known)).toBeUndefined();
    expect(keyword('', known)).toBeUndefined();
    expect(keyword(undefined, known)).toBeUndefined();
  });
});
