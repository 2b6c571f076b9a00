import type { ResourceType } from '../resources/common.js';
import { familyOf, implementedTypes, RESOURCE_TYPE_DEFINITIONS } from '../resources/registry.js';

export { familyOf };

export interface FunctionFamily {
  /** The function's entry file, relative to the repository root; it exports `handler` and `adapters`. */
  readonly entry: string;
  /** The resource types it serves (one function per family; its bundle holds only the family's adapter and driver). */
  readonly types: readonly ResourceType[];
  /** Whether its targets are on-premises protocols (the function is attached to the VPC). */
  readonly onPremises: boolean;
}

/**
 * The reset functions, one per family the implemented types' descriptors name, for the CDK
 * loop that deploys them: `functions/reset-<family>.ts` each. A test keeps each entry's
 * adapters equal to its types' descriptors'.
 */
export function functionFamilies(): Readonly<Record<string, FunctionFamily>> {
  const families: Record<string, { entry: string; types: ResourceType[]; onPremises: boolean }> = {};
  for (const type of implementedTypes()) {
    const family = familyOf(type)!;
    const f = (families[family] ??= { entry: `functions/reset-${family}.ts`, types: [], onPremises: RESOURCE_TYPE_DEFINITIONS[type].onPremises });
    if (f.onPremises !== RESOURCE_TYPE_DEFINITIONS[type].onPremises) throw new Error(`${type}: a function family serves either on-premises or cloud types, not both (${family})`);
    f.types.push(type);
  }
  return families;
}
