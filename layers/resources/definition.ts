import type { z } from 'zod';
import type { Verification } from '../engine/adapter.js';
import type { PolicyInput } from '../engine/policy.js';
import type { AccountReference, AdapterLoader, SecretReference } from '../engine/types.js';
import type { ResourceType } from './common.js';

export type { AccountReference, SecretReference };

/** Ports a resource connects to on its target. */
export interface PortSet {
  readonly tcp: readonly number[];
  readonly udp?: readonly number[];
}

/**
 * What the test suite runs a type against, by the adapter contract's fixtures' ids
 * (test/contracts/fixtures): the real test servers, and the simulators under test/simulators.
 */
export type TestTarget =
  | 'ssh'
  | 'telnet'
  | 'postgresql'
  | 'mariadb'
  | 'ldap'
  | 'samba'
  | 'unix-shells:aix'
  | 'unix-shells:hp-ux'
  | 'unix-shells:solaris'
  | 'unix-shells:macos'
  | 'unix-shells:esxi'
  | 'windows-openssh'
  /** The SQL Server simulators: TDS 7.4 (test/simulators/tds) and the Browser (test/simulators/sql-browser). */
  | 'tds'
  /** The SAP ASE simulator: TDS 5.0 (test/simulators/tds5). */
  | 'tds5'
  /** The Oracle Database simulator: Oracle Net, TTC and O5LOGON (test/simulators/oracle). */
  | 'tns'
  /** The cloud providers' HTTPS simulators (test/simulators/https), one per provider type. */
  | `https:${string}`
  /** moto in server mode (AWS IAM and STS), a private one per suite with request authentication on. */
  | 'moto'
  /** The device CLI simulators (test/simulators/device), one per vendor dialect. */
  | `device:${string}`;

/** What backs a type's row in the support matrix: the suite's real server or simulator for it. */
export interface TestedAgainst {
  /** 'simulator' when any of `using` is one. */
  readonly kind: 'real server' | 'simulator';
  /** What it is, and what of the type it does not cover. */
  readonly what: string;
  /**
   * Every target a contract fixture of this type runs against, and no other: a unit test
   * (test/unit/support-matrix.test.ts) holds this equal to the fixtures, so the row claims only
   * what the suite runs.
   */
  readonly using: readonly TestTarget[];
}

/** A type that resets: the function that serves it, its adapter (loaded on first use) and what the suite checks it against. */
export interface Implementation {
  /**
   * The reset function that serves it (`functions/reset-<family>.ts`); several types may share
   * one (the Unix types), each function bundles only its family's adapter and driver.
   */
  readonly family: string;
  readonly adapter: AdapterLoader;
  readonly testedAgainst: TestedAgainst;
}

/**
 * Everything the product knows about one resource type, in its folder under layers/resources/:
 * the registry, the adapter map, the functions, the security groups, `rpr types` and the
 * README's support matrix are all made from these.
 */
export interface ResourceTypeDefinition<S extends z.ZodType = z.ZodType, T extends ResourceType = ResourceType> {
  readonly type: T;
  readonly title: string;
  /** The resource's whole configuration, with `type` a literal and defaults applied. */
  readonly schema: S;
  readonly defaultPort: number;
  /** The ports a resource needs, from its configuration (an SSL port, a named instance's UDP 1434). */
  readonly ports: (config: z.output<S>) => PortSet;
  /** Every port its configurations need without a custom port: what its function's security group opens. */
  readonly defaultPorts: PortSet;
  /** Password-policy defaults and the type's hard limits. */
  readonly policy: PolicyInput;
  /** Checks an account's user name on this type (refuses injection). */
  readonly username: z.ZodType<string>;
  readonly references: (config: z.output<S>) => AccountReference[];
  /** The standalone secrets a configuration names (key files, client secrets, SSH private keys). */
  readonly secrets?: (config: z.output<S>) => SecretReference[];
  /** For a resource whose accounts log in elsewhere: the realm their names belong to (an AD domain). */
  readonly realm?: (config: z.output<S>) => string | undefined;
  /** Reached over a private network (SSH, SQL, LDAP, device CLIs): such functions run in a VPC. */
  readonly onPremises: boolean;
  /**
   * For types whose resources may share one target (several resources naming one directory server;
   * a provider's tenant or account, whose API limits they all spend): the key of that target, and
   * how many of a run's groups on it may run at once. The workflow's plan deals the others into
   * chains run one after another (layers/workflow/plan.ts), so the cap holds whatever the Map's width.
   */
  readonly sharedTarget?: { readonly key: (config: z.output<S>) => string; readonly groupsAtOnce: number };
  /**
   * The type's admin may be an AWS role its function assumes (`sts:AssumeRole`): the function's
   * role is granted that on the deployment's admin role ARNs (ResetFunctionsProps.adminRoleArns).
   */
  readonly assumesRoles?: boolean;
  /**
   * The field that names the account rpr logs in with to reset the others, where it is not
   * `adminAccount` (`rpr resource add --admin` sets it).
   */
  readonly adminField?: string;
  /** The field that names the account every session logs in as, for the types that have one (`rpr resource add --login`). */
  readonly loginField?: string;
  /** How its adapter proves a password. */
  readonly verification: Verification;
  readonly implementation: Implementation;
  /** For the support matrix. */
  readonly changedBy: string;
  readonly verifiedBy: string;
}

/** Resources naming one directory server (host and port, case-insensitive): two of a run's groups on it at once. */
export const directoryServer = {
  key: (r: { readonly host: string; readonly port: number }) => `${r.host.toLowerCase()}:${r.port}`,
  groupsAtOnce: 2,
} as const;

export function defineType<S extends z.ZodType, T extends ResourceType>(def: ResourceTypeDefinition<S, T>): ResourceTypeDefinition<S, T> {
  return def;
}

/** A port set with one TCP port, the default: the usual case. */
export function tcp(...ports: number[]): PortSet {
  return { tcp: ports };
}
