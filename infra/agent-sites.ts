import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { AccountRootPrincipal, Grant, Role, type IPrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Activity, CustomerManagedEncryptionConfiguration } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { siteSchema } from '../layers/resources/common.js';
import { grantManagedSecrets } from './secret-access.js';
import { grantResetState } from './state-access.js';

export interface AgentSitesProps {
  /** Agent sites (networks the cloud cannot reach). Default: none. "cloud" is not a site. */
  readonly sites?: readonly string[];
  readonly key: IKey;
  readonly table: ITable;
  /** Who may assume a site's role. Default: this account (any principal the account allows to call sts:AssumeRole on it). */
  readonly agentPrincipal?: IPrincipal;
  /** Default: 1 hour; the agent refreshes its credentials. */
  readonly maxSessionDuration?: Duration;
}

/**
 * One Step Functions activity per agent site, and a role per site that its agent assumes:
 * it may poll its own activity, report task results and heartbeats, and read and write only
 * the secrets tagged `rpr:managed` and `rpr:site` = the site.
 */
export class AgentSites extends Construct {
  readonly activities: ReadonlyMap<string, Activity>;
  readonly roles: ReadonlyMap<string, Role>;

  constructor(scope: Construct, id: string, props: AgentSitesProps) {
    super(scope, id);
    const activities = new Map<string, Activity>();
    const roles = new Map<string, Role>();
    for (const site of props.sites ?? []) {
      const parsed = siteSchema.safeParse(site);
      if (!parsed.success) throw new Error(`sites: ${JSON.stringify(site)} ${parsed.error.issues[0]!.message}`);
      if (site === 'cloud') throw new Error('sites: "cloud" runs in the cloud and is not an agent site');
      if (activities.has(site)) throw new Error(`sites: ${site} is listed twice`);
      const scope = new Construct(this, site);
      const activity = new Activity(scope, 'Activity', {
        encryptionConfiguration: new CustomerManagedEncryptionConfiguration(props.key),
      });
      const role = new Role(scope, 'AgentRole', {
        assumedBy: props.agentPrincipal ?? new AccountRootPrincipal(),
        description: `rpr agent for site ${site}: poll its activity, report results, its site's secrets`,
        maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
      });
      activity.grant(role, 'states:GetActivityTask');
      // Task tokens are not ARNs: these three actions take no resource but "*".
      Grant.addToPrincipal({
        grantee: role,
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
        resourceArns: ['*'],
      });
      grantManagedSecrets(role, { site });
      grantResetState(role, props.table);
      props.key.grantEncryptDecrypt(role);
      activities.set(site, activity);
      roles.set(site, role);
    }
    this.activities = activities;
    this.roles = roles;
  }
}
