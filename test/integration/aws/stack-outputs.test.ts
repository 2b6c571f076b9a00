import { randomBytes } from 'node:crypto';
import { CloudFormationClient, CreateStackCommand, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { afterAll, expect, it } from 'vitest';
import { defaultAwsClients } from '../../../cli/aws.js';
import { describeServer } from '../../../harness/servers/index.js';
import { MOTO_CREDENTIALS, MOTO_REGION } from './clients.js';

describeServer('moto', '`--stack NAME`: a deployed stack\'s outputs, read from CloudFormation (moto)', ({ endpoint }) => {
  const cfn = new CloudFormationClient({ endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
  const stackName = `rpr-outputs-${randomBytes(4).toString('hex')}`;
  const target = { endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS };
  afterAll(async () => {
    await cfn.send(new DeleteStackCommand({ StackName: stackName }));
    cfn.destroy();
  });

  it('returns every output by its key', async () => {
    const stateMachineArn = `arn:aws:states:${MOTO_REGION}:123456789012:stateMachine:rpr-resets`;
    await cfn.send(
      new CreateStackCommand({
        StackName: stackName,
        TemplateBody: JSON.stringify({
          Resources: { Marker: { Type: 'AWS::SSM::Parameter', Properties: { Name: `/${stackName}/marker`, Type: 'String', Value: 'rpr' } } },
          Outputs: { ResetStateMachineArn: { Value: stateMachineArn }, StateTableName: { Value: 'rpr-state' } },
        }),
      }),
    );
    expect(await defaultAwsClients.stackOutputs(stackName, target)).toEqual({ ResetStateMachineArn: stateMachineArn, StateTableName: 'rpr-state' });
  });

  it('fails with CloudFormation\'s reason for a stack that does not exist', async () => {
    await expect(defaultAwsClients.stackOutputs(`${stackName}-missing`, target)).rejects.toThrow(/does not exist/);
  });
});
