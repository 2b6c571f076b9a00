import type { ResourceType } from '../resources/common.js';
import { UNIX_TYPES } from '../resources/unix/schema.js';

export interface FunctionFamily {
  /** The function's entry file, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /** The resource types it serves (one function per family; its bundle holds only the family's adapter and driver). */
  readonly types: readonly ResourceType[];
  /** Whether its targets are on-premises protocols (the function is attached to the VPC). */
  readonly onPremises: boolean;
}

/**
 * The reset functions, one per implemented adapter family, for the CDK loop that deploys
 * them. A test keeps it equal to ALL_ADAPTERS and to each entry's own adapters.
 */
export const FUNCTION_FAMILIES = {
  unix: { entry: 'functions/reset-unix.ts', types: UNIX_TYPES, onPremises: true },
  postgresql: { entry: 'functions/reset-postgresql.ts', types: ['postgresql'], onPremises: true },
  mysql: { entry: 'functions/reset-mysql.ts', types: ['mysql'], onPremises: true },
  ldap: { entry: 'functions/reset-ldap.ts', types: ['ldap'], onPremises: true },
  windows: { entry: 'functions/reset-windows.ts', types: ['windows'], onPremises: true },
  'windows-domain': { entry: 'functions/reset-windows-domain.ts', types: ['windows-domain'], onPremises: true },
} as const satisfies Record<string, FunctionFamily>;

export type FunctionFamilyName = keyof typeof FUNCTION_FAMILIES;

/** The family whose function serves a type, or undefined for a type without an adapter yet. */
export function familyOf(type: string): FunctionFamilyName | undefined {
  return (Object.keys(FUNCTION_FAMILIES) as FunctionFamilyName[]).find((f) => (FUNCTION_FAMILIES[f].types as readonly string[]).includes(type));
}
