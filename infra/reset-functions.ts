import { Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Peer, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Grant, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnRotationSchedule, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DEFAULT_SECRETS_WRITE_RATE } from '../layers/engine/stores/write-budget.js';
import type { ResourceType } from '../layers/resources/common.js';
import { familyOf, implementedTypes, RESOURCE_TYPE_DEFINITIONS } from '../layers/resources/registry.js';
import { functionFamilies } from '../layers/workflow/families.js';
import { functionProps } from './bundling.js';
import type { Network } from './network.js';
import { targetPorts } from './ports.js';
import { grantManagedSecrets } from './secret-access.js';
import { grantResetState } from './state-access.js';

/** Private address ranges: where on-premises targets are reached through VPN or Direct Connect. */
export const RFC1918 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] as const;

export interface ResetFunctionsProps {
  readonly key: IKey;
  readonly table: ITable;
  /** Where the on-premises types' functions run. Required when any implemented type is on-premises. */
  readonly network?: Network;
  /** Target address ranges the on-premises functions may connect to. Default: RFC 1918 (`10/8`, `172.16/12`, `192.168/16`). */
  readonly targetCidrs?: readonly string[];
  /** More outbound ports per type, for resources on non-default ports. Default: none (see ports.ts for each type's ports). */
  readonly extraPorts?: Partial<Record<ResourceType, readonly number[]>>;
  /**
   * Per-type concurrency caps, as Lambda reserved concurrency: a type's groups beyond its cap are
   * throttled and retried by the workflow with backoff and jitter. Default: no cap (the Map's
   * MaxConcurrency bounds the run; an account with the default 10-execution quota cannot reserve).
   */
  readonly typeConcurrency?: Partial<Record<ResourceType, number>>;
  /**
   * One invocation's time limit. Default: 15 minutes (Lambda's maximum). A group that does not fit
   * returns what is left, and the workflow carries it on in another invocation.
   */
  readonly timeout?: Duration;
  /**
   * Secrets Manager writes per second for the whole deployment (functions, agents and the CLI
   * share one budget in the state table). Default 45: 90 % of the account's and region's
   * quota of 50, which it shares with every other writer of secrets there.
   */
  readonly secretsWriteRate?: number;
  /** Default: 1024 MB (ssh2's JavaScript crypto is CPU-bound). */
  readonly memorySize?: number;
  /**
   * The EventBridge bus where a rotation that ends out of sync sends its event (beside the
   * `rpr` OutOfSyncAccounts metric), as the workflow's summary does for a run. Default: `default`.
   */
  readonly eventBusName?: string;
  /**
   * The roles the functions of types whose admin is a role to assume (aws-iam's `roleArn`) may
   * assume: `sts:AssumeRole` on these only. Resources are configured after deployment, so the
   * stack cannot know their roles; it names a place for them instead. Default: roles under the
   * path `/rpr/` in any account (`arn:<partition>:iam::*:role/rpr/*`); each such role's trust
   * policy still decides whether this function may assume it.
   */
  readonly adminRoleArns?: readonly string[];
}

export interface RotationOptions {
  /** A `rate()` or `cron()` expression. Default: `rate(30 days)`. */
  readonly scheduleExpression?: string;
  /** The window after each scheduled start within which rotation runs, e.g. `3h`. Default: Secrets Manager's (to the end of the day). */
  readonly window?: string;
}

export { implementedTypes };

/** The type's function entry, of the family its descriptor names. */
export function entryOf(type: ResourceType): string {
  const family = familyOf(type);
  if (!family) throw new Error(`${type}: no function family serves it`);
  return functionFamilies()[family]!.entry;
}

/**
 * One reset function per implemented resource type, generated from the registry: the workflow's
 * task for the type's groups, and the Secrets Manager rotation function for its accounts'
 * secrets. On-premises types run in the VPC with a security group that opens only their ports;
 * cloud types run outside it. Each may touch only secrets tagged `rpr:managed`, the state table
 * and the key.
 *
 * Outside a VPC, Lambda gives a function the internet with no security group, so no network
 * rule holds a cloud type's function to HTTPS: what does is its code (each provider's client
 * speaks HTTPS to its endpoint, and a configured endpoint must be https, or http to loopback
 * only, for an emulator). Enforcing it in the network means a VPC with a NAT gateway or an egress
 * proxy, which this stack does not create.
 */
export class ResetFunctions extends Construct {
  readonly functions: ReadonlyMap<ResourceType, LambdaFunction>;
  /** The on-premises types' security groups. */
  readonly securityGroups: ReadonlyMap<ResourceType, SecurityGroup>;
  /** Every reset function's timeout. */
  readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: ResetFunctionsProps) {
    super(scope, id);
    this.timeout = props.timeout ?? Duration.minutes(15);
    if (props.secretsWriteRate !== undefined && !(props.secretsWriteRate > 0 && Number.isFinite(props.secretsWriteRate))) {
      throw new Error(`secretsWriteRate must be a positive number of writes per second, not ${props.secretsWriteRate}`);
    }
    const functions = new Map<ResourceType, LambdaFunction>();
    const securityGroups = new Map<ResourceType, SecurityGroup>();
    const stack = Stack.of(this);
    const eventBus = EventBus.fromEventBusName(this, 'EventBus', props.eventBusName ?? 'default');

    for (const type of implementedTypes()) {
      const scope = new Construct(this, type);
      const definition = RESOURCE_TYPE_DEFINITIONS[type];
      let network = {};
      if (definition.onPremises) {
        if (!props.network) throw new Error(`${type}: an on-premises type needs the network (ResetFunctionsProps.network)`);
        const sg = new SecurityGroup(scope, 'SecurityGroup', {
          vpc: props.network.vpc,
          description: `rpr reset-${type}: ${definition.title} ports out, nothing in`,
          allowAllOutbound: false,
        });
        for (const cidr of props.targetCidrs ?? RFC1918) {
          const ports = targetPorts(type, props.extraPorts?.[type]);
          for (const port of ports.tcp) sg.addEgressRule(Peer.ipv4(cidr), Port.tcp(port), `${definition.title} targets`);
          for (const port of ports.udp) sg.addEgressRule(Peer.ipv4(cidr), Port.udp(port), `${definition.title} targets (UDP)`);
        }
        props.network.allowEndpoints(sg);
        securityGroups.set(type, sg);
        network = { vpc: props.network.vpc, vpcSubnets: props.network.subnets, securityGroups: [sg] };
      }
      const fn = new LambdaFunction(scope, 'Function', {
        ...functionProps(scope, {
          entry: entryOf(type),
          description: `rpr: resets ${definition.title} accounts (workflow groups and Secrets Manager rotation)`,
          key: props.key,
          environment: { RPR_TABLE: props.table.tableName, RPR_SECRETS_WRITE_RATE: String(props.secretsWriteRate ?? DEFAULT_SECRETS_WRITE_RATE), RPR_EVENT_BUS: eventBus.eventBusName },
          timeout: this.timeout,
          memorySize: props.memorySize ?? 1024,
        }),
        ...network,
        ...(props.typeConcurrency?.[type] !== undefined ? { reservedConcurrentExecutions: props.typeConcurrency[type] } : {}),
      });
      grantResetState(fn, props.table);
      props.key.grantEncryptDecrypt(fn);
      grantManagedSecrets(fn);
      // A cloud type's admin as a role: the function may assume the deployment's admin roles, and
      // holds no right of its own on the provider (no iam:* here).
      if (definition.assumesRoles) {
        Grant.addToPrincipal({ grantee: fn, actions: ['sts:AssumeRole'], resourceArns: [...(props.adminRoleArns ?? [`arn:${stack.partition}:iam::*:role/rpr/*`])] });
      }
      // A rotation that ends out of sync sends the event and the metric a run's summary sends.
      eventBus.grantPutEventsTo(fn);
      Grant.addToPrincipal({ grantee: fn, actions: ['cloudwatch:PutMetricData'], resourceArns: ['*'], conditions: { StringEquals: { 'cloudwatch:namespace': 'rpr' } } });
      // The rotation hook: Secrets Manager may invoke it, for this account's secrets only.
      fn.addPermission('SecretsManagerRotation', {
        principal: new ServicePrincipal('secretsmanager.amazonaws.com'),
        action: 'lambda:InvokeFunction',
        sourceAccount: stack.account,
      });
      functions.set(type, fn);
    }
    this.functions = functions;
    this.securityGroups = securityGroups;
  }

  /** The function of a type; throws for a type this construct built none for. */
  functionOf(type: ResourceType): LambdaFunction {
    const fn = this.functions.get(type);
    if (!fn) throw new Error(`${type}: no reset function was built for it (built: ${[...this.functions.keys()].join(', ')})`);
    return fn;
  }

  /**
   * Turns on Secrets Manager rotation for a secret `rpr` manages (tagged `rpr:managed`), with
   * the account's type's function as its rotation function.
   */
  enableRotation(secret: ISecret, type: ResourceType, options: RotationOptions = {}): CfnRotationSchedule {
    const id = `Rotation${this.node.children.filter((c) => c instanceof CfnRotationSchedule).length}`;
    return new CfnRotationSchedule(this, id, {
      secretId: secret.secretArn,
      rotationLambdaArn: this.functionOf(type).functionArn,
      rotationRules: {
        scheduleExpression: options.scheduleExpression ?? 'rate(30 days)',
        ...(options.window !== undefined ? { duration: options.window } : {}),
      },
      rotateImmediatelyOnUpdate: false,
    });
  }
}
