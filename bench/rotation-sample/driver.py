"""Drives AWS's sample rotation function (lambda_function.py beside this file, unmodified) the way
bench/rotation.ts drives ours: one warm Python process (a warm Lambda container), for each secret a
new token and the four steps called in turn with the event Secrets Manager sends, AWS calls counted
by operation, time per rotation and per step. Run by bench/rotation-sample.ts, which hands it a JSON
job on standard input and reads a JSON result from standard output.

What the driver adapts, without touching the sample's logic:
- SECRETS_MANAGER_ENDPOINT: the sample reads it (its CloudFormation template sets it to the
  region's endpoint); here it is the bench's own moto.
- The CA file: the sample connects with sslmode='verify-full' and sslrootcert='/etc/pki/tls/cert.pem'
  (Amazon Linux's trust store in Lambda). pgdb.connect is wrapped to pass the test servers' CA file
  in that one argument instead; TLS and host name verification stay as the sample asks.
- Logging: the sample sets the root logger to INFO; in Lambda its records go to CloudWatch. Here the
  records are built as there and discarded (a NullHandler), as bench/rotation.ts silences ours.
"""
import json
import logging
import os
import sys
import time

import boto3
import botocore.exceptions

job = json.load(sys.stdin)
os.environ['SECRETS_MANAGER_ENDPOINT'] = job['endpoint']
os.environ.setdefault('AWS_DEFAULT_REGION', 'us-east-1')
os.environ.setdefault('AWS_ACCESS_KEY_ID', 'testing')
os.environ.setdefault('AWS_SECRET_ACCESS_KEY', 'testing')

try:
    import pgdb  # noqa: F401
except ImportError:
    sys.stderr.write('PyGreSQL (pgdb) is missing: see bench/rotation-sample/README.md (install it in bench/rotation-sample/.venv)\n')
    sys.exit(3)

SAMPLE_ROOTCERT = '/etc/pki/tls/cert.pem'
_connect = pgdb.connect


def connect_with_test_ca(*args, **kwargs):
    if kwargs.get('sslrootcert') == SAMPLE_ROOTCERT:
        kwargs['sslrootcert'] = job['caFile']
    return _connect(*args, **kwargs)


pgdb.connect = connect_with_test_ca

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lambda_function  # noqa: E402  (the sample, as AWS publishes it)

logging.getLogger().addHandler(logging.NullHandler())

# Every client the sample makes (boto3.client(...) in each invocation) comes from boto3's default
# session, whose event handlers each new client copies: one before-call per API call, whatever its outcome.
calls = {}


def count(model, **_):
    op = '%s.%s' % (model.service_model.service_id.replace(' ', ''), model.name)
    calls[op] = calls.get(op, 0) + 1


boto3.setup_default_session(region_name='us-east-1')
boto3.DEFAULT_SESSION.events.register('before-call', count)

# The driver's own calls (creating the secrets, staging each rotation): another session, not counted.
setup = boto3.session.Session(region_name='us-east-1').client('secretsmanager', endpoint_url=job['endpoint'])
# An ARN of no function: see stage() below.
ROTATION_LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:SecretsManagerRDSPostgreSQLRotationSingleUser'


def stage(arn, token):
    """Leave the secret as AWS's RotateSecret leaves it before it invokes createSecret: rotation
    enabled, the token a version labelled AWSPENDING with no value, AWSCURRENT where it was.

    moto's RotateSecret with a RotationLambdaARN does exactly that (the pending version without a
    value, RotationEnabled from the rules) and then looks the function up to invoke it; there is no
    such function in this moto (moto would need Docker to run one), so that last part answers
    ResourceNotFoundException, with the state already as AWS leaves it. Without an ARN moto would
    instead move AWSCURRENT to the token at once (see bench/rotation.ts's header). The state is
    checked below, so a moto that behaves otherwise stops the bench rather than skewing it.
    On the valueless version moto answers GetSecretValue with ResourceNotFoundException, as AWS
    does, and PutSecretValue with that token fills it in: the sample's createSecret path as on AWS.
    """
    try:
        setup.rotate_secret(SecretId=arn, ClientRequestToken=token, RotationLambdaARN=ROTATION_LAMBDA,
                            RotationRules={'AutomaticallyAfterDays': 30})
    except botocore.exceptions.ClientError as e:
        if e.response['Error']['Code'] != 'ResourceNotFoundException':
            raise
    meta = setup.describe_secret(SecretId=arn)
    stages = meta['VersionIdsToStages']
    current = [v for v, s in stages.items() if 'AWSCURRENT' in s]
    if meta.get('RotationEnabled') is not True or stages.get(token) != ['AWSPENDING'] or current == [token] or len(current) != 1:
        raise RuntimeError('moto did not stage the rotation as AWS does: %r' % (meta,))


secrets = []
for role in job['roles']:
    value = {'engine': 'postgres', 'host': job['host'], 'port': job['port'], 'username': role['name'],
             'password': role['password'], 'dbname': 'postgres', 'ssl': job['ssl']}
    if job['ssl'] is None:
        del value['ssl']
    made = setup.create_secret(Name='%s/%s' % (job['prefix'], role['name']), SecretString=json.dumps(value))
    secrets.append(made['ARN'])

STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret']
rotations = []
for i, arn in enumerate(secrets):
    token = job['tokens'][i]
    stage(arn, token)
    time.sleep(job['pauseMs'] / 1000)
    calls.clear()
    steps = []
    t0 = time.perf_counter()
    for step in STEPS:
        ts = time.perf_counter()
        lambda_function.lambda_handler({'Step': step, 'SecretId': arn, 'ClientRequestToken': token}, None)
        steps.append((time.perf_counter() - ts) * 1000)
    total = (time.perf_counter() - t0) * 1000
    rotations.append({'arn': arn, 'token': token, 'ms': total, 'steps': steps, 'calls': dict(calls)})

json.dump({'rotations': rotations, 'python': sys.version.split()[0], 'boto3': boto3.__version__,
           'pygresql': getattr(pgdb, 'version', '?')}, sys.stdout)
