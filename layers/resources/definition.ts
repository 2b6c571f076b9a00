import type { z } from 'zod';
import type { PolicyInput } from '../engine/policy.js';
import type { ResourceType } from './common.js';

/** An account that a resource's configuration names as a login (admin, root, login, ...). */
export interface AccountReference {
  /** The credential's role, the key under which the adapter finds it. */
  readonly role: string;
  /** The configuration field that names it, for error messages. */
  readonly field: string;
  readonly accountId: string;
  /** Types of other resources that may own the account; an account of the resource itself is always allowed. */
  readonly fromResourceTypes: readonly ResourceType[];
}

/** Key material a configuration names directly by secret id (an SSH private key, say), attached to a login. */
export interface KeyReference {
  /** The credential role the key belongs to. */
  readonly role: string;
  readonly field: string;
  readonly secretId: string;
}

/** Everything the product knows about a resource type except how to change it (adapters live apart). */
export interface ResourceTypeDefinition<S extends z.ZodType = z.ZodType, T extends ResourceType = ResourceType> {
  readonly type: T;
  readonly title: string;
  /** The resource's whole configuration, with `type` a literal and defaults applied. */
  readonly schema: S;
  readonly defaultPort: number;
  /** Password-policy defaults and the type's hard limits. */
  readonly policy: PolicyInput;
  /** Checks an account's user name on this type (refuses injection). */
  readonly username: z.ZodType<string>;
  readonly references: (config: z.output<S>) => AccountReference[];
  readonly keys?: (config: z.output<S>) => KeyReference[];
  /** Reached over a private network (SSH, SQL, LDAP, device CLIs): such functions run in a VPC. */
  readonly onPremises: boolean;
  /** For the support matrix. */
  readonly changedBy: string;
  readonly verifiedBy: string;
}

export function defineType<S extends z.ZodType, T extends ResourceType>(def: ResourceTypeDefinition<S, T>): ResourceTypeDefinition<S, T> {
  return def;
}
