import { inspect } from 'node:util';

const HIDDEN = '[secret]';

/**
 * A password or key held in memory. It prints as "[secret]" in every form
 * (template strings, JSON, util.inspect), so an accidental log line carries nothing.
 * Only `reveal()` gives the value, at the transport boundary.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  equals(other: Secret): boolean {
    return this.#value === other.#value;
  }
  get length(): number {
    return this.#value.length;
  }
  toString(): string {
    return HIDDEN;
  }
  toJSON(): string {
    return HIDDEN;
  }
  [inspect.custom](): string {
    return HIDDEN;
  }
}
