import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { encryptedLogGroup } from './encryption-key.js';

/** The repository root: FUNCTION_FAMILIES' entries are relative to it. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * How every function is built: esbuild on this machine (no Docker), minified ESM for Node.js 22
 * on ARM. The few AWS SDK clients a function uses are bundled too, not taken from the runtime:
 * a single minified file loads in 100-150 ms cold on Node 22 where the runtime's SDK packages,
 * resolved file by file, took 95-135 ms on their own (`npm run bench:bundles`), and the bundle
 * no longer depends on the runtime's SDK version. ssh2's optional native pieces (`cpu-features`,
 * `sshcrypto.node`) are left out: ssh2
 * falls back to its JavaScript crypto. `pg-native` is an optional peer of pg that is never used.
 *
 * The engine is bundled into each function rather than shipped as a shared Lambda layer: a
 * layer would need a separate build of `layers/` whose imports every function bundle marks
 * external and resolves from /opt at run time; until then each bundle holds the engine plus
 * its own adapter only.
 */
export const BUNDLING: NonNullable<NodejsFunctionProps['bundling']> = {
  forceDockerBundling: false,
  minify: true,
  // Error class names are the state machine's Retry/Catch contract (TargetTimeoutError, …): minifying must not rename them.
  keepNames: true,
  sourceMap: false,
  target: 'node22',
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  // CommonJS drivers (ssh2, pg, mysql2) call require() for Node built-ins, and ssh2 reads __dirname.
  banner:
    "import { createRequire as __rprCreateRequire } from 'node:module'; import { fileURLToPath as __rprFileURLToPath } from 'node:url'; import { dirname as __rprDirname } from 'node:path'; " +
    'const require = __rprCreateRequire(import.meta.url); const __filename = __rprFileURLToPath(import.meta.url); const __dirname = __rprDirname(__filename);',
  externalModules: ['cpu-features', '*.node', 'pg-native'],
};

export interface FunctionDefaults {
  readonly entry: string;
  readonly description: string;
  readonly key: IKey;
  readonly environment: Record<string, string>;
  readonly timeout?: Duration;
  readonly memorySize?: number;
}

/** The settings every rpr function shares: runtime, architecture, bundling, tracing, a JSON log group under the key. */
export function functionProps(scope: Construct, d: FunctionDefaults): NodejsFunctionProps {
  return {
    entry: join(REPO_ROOT, d.entry),
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    description: d.description,
    timeout: d.timeout ?? Duration.seconds(30),
    memorySize: d.memorySize ?? 512,
    tracing: Tracing.ACTIVE,
    loggingFormat: LoggingFormat.JSON,
    logGroup: encryptedLogGroup(scope, 'Logs', d.key),
    environment: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...d.environment },
    environmentEncryption: d.key,
    bundling: BUNDLING,
  };
}
