/**
 * What the engine knows of accounts and resource types. The configuration model
 * (layers/resources/) implements these; the engine is given a TypeRegistry and never names a
 * resource type itself.
 */
import type { AdapterFactory, Verification } from './adapter.js';
import type { PolicyInput, PolicyOverrides } from './policy.js';
import type { StoredResource } from './stores/types.js';

import type { Account } from './account.js';

export type { Account };

/** An account that a resource's configuration names as a login (admin, root, login, ...). */
export interface AccountReference {
  /** The credential's role, the key under which the adapter finds it. */
  readonly role: string;
  /** The configuration field that names it, for error messages. */
  readonly field: string;
  readonly accountId: string;
  /** Types of other resources that may own the account; an account of the resource itself is always allowed. */
  readonly fromResourceTypes: readonly string[];
}

/**
 * A secret that is not an account's password: a service-account key file, a client secret or
 * certificate, an access key pair, an SSH private key, a TLS client key. Loaded with the
 * session, redacted everywhere, handed to the adapter by `name`.
 */
export interface SecretReference {
  /** The key under which the adapter finds it (`AdapterContext.secrets`). */
  readonly name: string;
  /** The configuration field that names it, for error messages. */
  readonly field: string;
  readonly secretId: string;
  /** The login role it belongs to (an SSH private key of the "login"), when it is one's key. */
  readonly ofLogin?: string;
}

/** How a process gets a type's adapter: loaded on first use, so that no driver loads before it is needed. */
export type AdapterLoader = () => Promise<AdapterFactory<never>>;

/** What the engine needs of one resource type. */
export interface EngineType {
  readonly type: string;
  /** How the type's adapter proves a password. */
  readonly verification: Verification;
  readonly adapter: AdapterLoader;
  /** Password-policy defaults and the type's limits, under a resource's own overrides. */
  readonly policy: PolicyInput;
  readonly references: (resource: never) => AccountReference[];
  readonly secrets: (resource: never) => SecretReference[];
  /**
   * For a resource of this type whose accounts log in elsewhere: the realm their user names
   * belong to (an Active Directory domain's DNS name), handed to the adapter with the login.
   */
  readonly realm?: (resource: never) => string | undefined;
  /**
   * Resources of this type that share one target (a directory server, a provider tenant whose API
   * limits they spend together): its key, and how many of a run's groups on it may run at once.
   */
  readonly sharedTarget?: { readonly key: (resource: never) => string; readonly groupsAtOnce: number };
}

/** Every type the configuration model knows, and how configuration is parsed. */
export interface TypeRegistry {
  /** The type, or InvalidConfigurationError naming `field` for an unknown one. */
  typeOf(type: unknown, field?: string): EngineType;
  /** A resource's configuration checked by its type's schema, defaults applied; InvalidConfigurationError naming the field. */
  parseResource(input: unknown, prefix?: string): StoredResource & { readonly policy?: PolicyOverrides };
  /** An account checked, its user name by the rules of its resource's type. */
  parseAccount(input: unknown, resourceType: string, prefix?: string): Account;
}
