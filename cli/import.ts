import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { InvalidConfigurationError } from '../layers/engine/errors.js';

/** A `key.path=value` assignment; the value is JSON when it parses as JSON, else a string. */
export function parseAssignment(text: string, into: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidConfigurationError('--set', `"${text}" is not key=value`);
  const key = text.slice(0, eq).trim();
  setPath(into, key, parseValue(text.slice(eq + 1), key));
  return into;
}

/** Fields that are always text, even when they look like a number ("host": "10", "id": "42"). */
const TEXT_FIELDS = new Set(['id', 'host', 'site', 'description', 'username', 'secretId', 'resourceId']);

export function parseValue(raw: string, key = ''): unknown {
  if (TEXT_FIELDS.has(key)) return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  if (keys.some((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype')) {
    throw new InvalidConfigurationError(path, 'is not a valid field path');
  }
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null || Array.isArray(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys.at(-1)!] = value;
}

export interface ImportRow {
  line: number;
  values: Record<string, unknown>;
}

/**
 * Reads resources to import from CSV (a header row of field paths such as `id,host,tags,privilege.mode`;
 * cells parse as JSON when they can; empty cells are left out) or JSON (an array of objects).
 * Each row keeps its line number for error reports.
 */
export function readImportFile(path: string): ImportRow[] {
  const text = readFileSync(path, 'utf8');
  if (/\.json$/i.test(path) || /^\s*\[/.test(text)) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new InvalidConfigurationError(path, `is not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(data)) throw new InvalidConfigurationError(path, 'must hold a JSON array of resources');
    return data.map((values, i) => {
      if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new InvalidConfigurationError(`${path}[${i}]`, 'must be an object');
      return { line: i + 1, values: values as Record<string, unknown> };
    });
  }
  const records = parse(text, { columns: true, skip_empty_lines: true, trim: true, info: true }) as { record: Record<string, string>; info: { lines: number } }[];
  return records.map(({ record, info }) => {
    const values: Record<string, unknown> = {};
    for (const [key, cell] of Object.entries(record)) {
      if (cell === '') continue;
      // Tags are a list: "a;b" in a CSV cell.
      setPath(values, key, key === 'tags' && !cell.startsWith('[') ? cell.split(';').map((t) => t.trim()).filter(Boolean) : parseValue(cell, key));
    }
    return { line: info.lines, values };
  });
}

export function readJsonFile(path: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InvalidConfigurationError(path, `cannot be read as JSON: ${(e as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InvalidConfigurationError(path, 'must hold a JSON object');
  return data as Record<string, unknown>;
}
