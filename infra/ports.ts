import type { ResourceType } from '../layers/resources/common.js';
import { RESOURCE_TYPE_DEFINITIONS } from '../layers/resources/registry.js';

/**
 * Ports a type may use besides its registry default: Telnet for the CLI-driven types that
 * offer it, LDAPS, Sybase's SSL port. Only these are opened outbound from the type's function;
 * a resource on another port needs `ResetFunctionsProps.extraPorts`.
 */
const ALTERNATE_PORTS: Partial<Record<ResourceType, readonly number[]>> = {
  linux: [23],
  aix: [23],
  'hp-ux': [23],
  solaris: [23],
  macos: [23],
  esxi: [23],
  as400: [23],
  alom: [23],
  ilom: [23],
  xscf: [23],
  'hp-procurve': [23],
  'hp-ilo': [23],
  'cisco-ios': [23],
  'cisco-catos': [23],
  'cisco-pix': [23],
  'juniper-netscreen': [23],
  ldap: [636],
  'windows-domain': [389],
  'sybase-ase': [2748],
};

/** The TCP ports a type's function may open to its targets, ascending. */
export function targetPorts(type: ResourceType, extra: readonly number[] = []): number[] {
  const ports = new Set([RESOURCE_TYPE_DEFINITIONS[type].defaultPort, ...(ALTERNATE_PORTS[type] ?? []), ...extra]);
  return [...ports].sort((a, b) => a - b);
}
