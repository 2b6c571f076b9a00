import type { ResourceType } from '../layers/resources/common.js';
import type { PortSet } from '../layers/resources/definition.js';
import { RESOURCE_TYPE_DEFINITIONS } from '../layers/resources/registry.js';

/**
 * The ports a type's function may open to its targets: the ports its descriptor says its
 * configurations need without a custom port (Telnet beside SSH, LDAPS beside LDAP, Sybase's SSL
 * port, a named SQL Server instance's UDP 1434), and `extra` TCP ports for resources on others
 * (`ResetFunctionsProps.extraPorts`). Ascending.
 */
export function targetPorts(type: ResourceType, extra: readonly number[] = []): { tcp: number[]; udp: number[] } {
  const ports: PortSet = RESOURCE_TYPE_DEFINITIONS[type].defaultPorts;
  const sorted = (list: Iterable<number>) => [...new Set(list)].sort((a, b) => a - b);
  return { tcp: sorted([...ports.tcp, ...extra]), udp: sorted(ports.udp ?? []) };
}
