/**
 * FreeTDS's tsql (Debian freetds-bin) speaking TDS 5.0: the independent client that proves an SAP
 * ASE simulator's logins, not this project's TDS 5.0 client. The password goes on standard input,
 * never the command line; each batch ends with `go`. FreeTDS 1.3 has no TLS for TDS 5.0, so it
 * meets plain listeners only.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TSQL = '/usr/bin/tsql';

let conf: string | undefined;
/** The client's character set is UTF-8, as the simulator's: bytes pass through unconverted. */
function freetdsConf(): string {
  if (!conf) {
    conf = join(mkdtempSync(join(tmpdir(), 'rpr-freetds-')), 'freetds.conf');
    writeFileSync(conf, '[global]\n\tclient charset = UTF-8\n');
  }
  return conf;
}

export function tsqlTds5(at: { readonly host: string; readonly port: number }, user: string, password: string, ...batches: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSQL, ['-H', at.host, '-p', String(at.port), '-U', user], { env: { ...process.env, TDSVER: '5.0', FREETDSCONF: freetdsConf(), TDSDUMP: '' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(`${password}\n${batches.map((b) => `${b}\ngo\n`).join('')}exit\n`);
  });
}

/** Whether tsql logs in as `user` with `password`: yes, no ("Login failed"), or a throw for anything else. */
export async function tsqlLogsIn(at: { readonly host: string; readonly port: number }, user: string, password: string): Promise<boolean> {
  const r = await tsqlTds5(at, user, password, 'select suser_name()');
  if (r.out.includes('(1 row affected)')) return true;
  if (/Login failed/.test(r.out)) return false;
  throw new Error(`tsql neither logged in nor was refused (exit ${r.code}): ${r.out.slice(0, 300)}`);
}
