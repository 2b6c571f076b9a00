import { Duration } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  Model,
  RequestValidator,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { resetRequestSchema } from '../layers/workflow/events.js';
import { functionProps } from './bundling.js';
import { encryptedLogGroup } from './encryption-key.js';
import { apiGatewaySchema } from './request-model.js';

export interface ResetApiProps {
  readonly key: IKey;
  readonly table: ITable;
  readonly stateMachine: IStateMachine;
  /** Steady requests per second over the stage. Default: 10. */
  readonly throttlingRateLimit?: number;
  /** Default: 20. */
  readonly throttlingBurstLimit?: number;
  /**
   * Create the account-level role through which API Gateway writes execution logs. Default:
   * true; set false when the account already has one (it is one setting per account and region).
   */
  readonly cloudWatchRole?: boolean;
}

/**
 * `POST /resets` starts a run (the caller's idempotency key becomes the execution name) and
 * returns its id; `GET /resets/{id}` reports it. IAM (SigV4) authorization on every method,
 * the request body validated against a model built from the same zod schema the handler uses,
 * access logs under the deployment's key, and stage throttling.
 */
export class ResetApi extends Construct {
  readonly api: RestApi;
  readonly handler: LambdaFunction;

  constructor(scope: Construct, id: string, props: ResetApiProps) {
    super(scope, id);
    const handlerScope = new Construct(this, 'Handler');
    this.handler = new LambdaFunction(handlerScope, 'Function', {
      ...functionProps(handlerScope, {
        entry: 'functions/api.ts',
        description: 'rpr: POST /resets starts a run, GET /resets/{id} reports it',
        key: props.key,
        environment: { RPR_TABLE: props.table.tableName, RPR_STATE_MACHINE_ARN: props.stateMachine.stateMachineArn },
        timeout: Duration.seconds(29),
      }),
    });
    props.stateMachine.grantStartExecution(this.handler);
    props.stateMachine.grantExecution(this.handler, 'states:DescribeExecution');
    props.table.grantReadData(this.handler);

    this.api = new RestApi(this, 'Api', {
      description: 'rpr: start and watch password resets',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      cloudWatchRole: props.cloudWatchRole ?? true,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: 'v1',
        accessLogDestination: new LogGroupLogDestination(encryptedLogGroup(this, 'AccessLogs', props.key)),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false, // request and response bodies stay out of execution logs
        tracingEnabled: true,
        metricsEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 10,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 20,
      },
    });

    const integration = new LambdaIntegration(this.handler);
    const resetRequest = new Model(this, 'ResetRequestModel', {
      restApi: this.api,
      contentType: 'application/json',
      description: 'A reset request: a selector, an optional idempotency key and requester',
      schema: apiGatewaySchema(resetRequestSchema, 'ResetRequest'),
    });
    const body = new RequestValidator(this, 'BodyValidator', { restApi: this.api, validateRequestBody: true, validateRequestParameters: true });
    const params = new RequestValidator(this, 'ParameterValidator', { restApi: this.api, validateRequestBody: false, validateRequestParameters: true });

    const resets = this.api.root.addResource('resets');
    resets.addMethod('POST', integration, { requestValidator: body, requestModels: { 'application/json': resetRequest } });
    resets.addResource('{id}').addMethod('GET', integration, {
      requestValidator: params,
      requestParameters: { 'method.request.path.id': true },
    });
  }
}
