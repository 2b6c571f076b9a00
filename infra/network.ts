import { Annotations } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  Peer,
  Port,
  SecurityGroup,
  Subnet,
  SubnetType,
  Vpc,
  type IPeer,
  type ISecurityGroup,
  type IVpc,
  type SubnetSelection,
} from 'aws-cdk-lib/aws-ec2';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { encryptedLogGroup } from './encryption-key.js';

export interface ExistingVpc {
  readonly vpcId: string;
  /** Private subnets the functions attach to (routed to the on-premises networks). */
  readonly subnetIds: readonly string[];
  /** The subnets' availability zones, in the same order. Default: none known (endpoints are placed by subnet id). */
  readonly availabilityZones?: readonly string[];
  /**
   * The subnets' route tables, in the same order, for the DynamoDB gateway endpoint's routes.
   * Default: none, and then no gateway endpoint is created (a warning says so): the VPC must
   * already route DynamoDB.
   */
  readonly routeTableIds?: readonly string[];
}

export interface NetworkProps {
  /** An existing VPC (context `vpcId` and `subnetIds`). Default: a new isolated VPC, two AZs, no NAT, flow logs on. */
  readonly vpc?: ExistingVpc;
  /** Create the AWS API endpoints. Default: true; set false when the existing VPC already has them (private DNS names clash). */
  readonly createEndpoints?: boolean;
  /**
   * The DynamoDB managed prefix list id of the region (`pl-…`), so that functions may reach the
   * gateway endpoint on 443 only. Default: none known offline, so 443 is open to any IPv4
   * address: in the created isolated VPC no route leads anywhere but the endpoints.
   */
  readonly dynamoDbPrefixListId?: string;
  /** Encrypts the flow logs of a created VPC. */
  readonly encryptionKey: IKey;
}

/**
 * Where the on-premises functions run: a VPC whose subnets reach the targets, with endpoints
 * for every AWS API the engine calls (Secrets Manager, Step Functions, STS, KMS, and DynamoDB
 * through a gateway), so that no NAT is needed. Functions join with `allowEndpoints(sg)`.
 */
export class Network extends Construct {
  readonly vpc: IVpc;
  readonly subnets: SubnetSelection;
  /** Guards the interface endpoints: 443 in from the functions' security groups only. */
  readonly endpointSecurityGroup: SecurityGroup;
  readonly #dynamoDbPeer: IPeer;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    if (props.vpc) {
      if (props.vpc.subnetIds.length === 0) throw new Error('vpc.subnetIds: at least one subnet is required');
      const azs = props.vpc.availabilityZones;
      const routeTables = props.vpc.routeTableIds;
      this.vpc = Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: props.vpc.vpcId,
        availabilityZones: azs ? [...azs] : props.vpc.subnetIds.map((_, i) => `unknown-az-${i}`),
        privateSubnetIds: [...props.vpc.subnetIds],
        ...(routeTables ? { privateSubnetRouteTableIds: [...routeTables] } : {}),
      });
      this.subnets = {
        subnets: props.vpc.subnetIds.map((subnetId, i) =>
          Subnet.fromSubnetAttributes(this, `Subnet${i}`, {
            subnetId,
            ...(azs?.[i] ? { availabilityZone: azs[i] } : {}),
            ...(routeTables?.[i] ? { routeTableId: routeTables[i] } : {}),
          }),
        ),
      };
    } else {
      const vpc = new Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [{ name: 'functions', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      });
      vpc.addFlowLog('FlowLog', { destination: FlowLogDestination.toCloudWatchLogs(encryptedLogGroup(this, 'FlowLogs', props.encryptionKey)) });
      this.vpc = vpc;
      this.subnets = { subnetType: SubnetType.PRIVATE_ISOLATED };
    }

    this.endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'rpr: AWS API endpoints, 443 from the reset functions only',
      allowAllOutbound: false,
    });
    this.#dynamoDbPeer = props.dynamoDbPrefixListId ? Peer.prefixList(props.dynamoDbPrefixListId) : Peer.anyIpv4();

    if (props.createEndpoints ?? true) {
      const services = {
        SecretsManager: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        StepFunctions: InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
        Sts: InterfaceVpcEndpointAwsService.STS,
        Kms: InterfaceVpcEndpointAwsService.KMS,
      };
      for (const [name, service] of Object.entries(services)) {
        this.vpc.addInterfaceEndpoint(name, {
          service,
          subnets: this.subnets,
          securityGroups: [this.endpointSecurityGroup],
          privateDnsEnabled: true,
          open: false,
        });
      }
      if (!props.vpc || props.vpc.routeTableIds) {
        this.vpc.addGatewayEndpoint('DynamoDb', { service: GatewayVpcEndpointAwsService.DYNAMODB, subnets: [this.subnets] });
      } else {
        Annotations.of(this).addWarningV2('rpr:no-dynamodb-endpoint', 'vpc.routeTableIds not given: no DynamoDB gateway endpoint is created; the VPC must route DynamoDB already');
      }
    }
  }

  /** Lets a function's security group reach the endpoints (443 out, and in on the endpoints). */
  allowEndpoints(functionSecurityGroup: ISecurityGroup): void {
    functionSecurityGroup.addEgressRule(this.endpointSecurityGroup, Port.tcp(443), 'AWS API interface endpoints');
    this.endpointSecurityGroup.addIngressRule(functionSecurityGroup, Port.tcp(443), 'from a reset function');
    functionSecurityGroup.addEgressRule(this.#dynamoDbPeer, Port.tcp(443), 'DynamoDB gateway endpoint');
  }
}
