import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetHashType, DockerImage, Duration, Stack, type ILocalBundling } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Code, LayerVersion, LoggingFormat, Runtime, Tracing, type FunctionProps, type ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { LAYER_MOUNT, REPO_ROOT } from './build.js';
import { encryptedLogGroup } from './encryption-key.js';

export { REPO_ROOT };

/**
 * Runs infra/build.ts in a child process: CDK's local bundling is synchronous, the build
 * (esbuild with a plugin) is not. Never Docker: the build needs nothing but this checkout.
 */
class LocalBuild implements ILocalBundling {
  constructor(private readonly args: readonly string[]) {}

  tryBundle(outputDir: string): boolean {
    build([...this.args, outputDir, runtimeModulesFile()]);
    return true;
  }
}

function build(args: readonly string[]): void {
  try {
    execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'infra/build.ts'), ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`building ${args.join(' ')} failed:\n${String((e as { stderr?: Buffer }).stderr ?? e)}`, { cause: e });
  }
}

let runtimeFile: string | undefined;
/**
 * Which modules are the runtime layer's, worked out once per synth process (a pass of esbuild
 * over every function entry, some seconds) and handed to every build after it in a file.
 */
function runtimeModulesFile(): string {
  if (runtimeFile === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'rpr-runtime-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    build(['runtime', join(dir, 'runtime-modules.json')]);
    runtimeFile = join(dir, 'runtime-modules.json');
  }
  return runtimeFile;
}

function builtAsset(args: readonly string[]): Code {
  return Code.fromAsset(REPO_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    // Required by the type but never used: LocalBuild always builds or throws.
    bundling: { image: DockerImage.fromRegistry('rpr-builds-locally'), local: new LocalBuild(args) },
  });
}

/**
 * The layer every function shares, once per stack: the engine, the workflow handlers, the
 * resource schemas and the packages they use (AWS SDK clients, zod, Powertools), extracted by
 * Lambda to /opt/rpr, which each function's bundle imports by absolute path (infra/build.ts).
 */
export class RuntimeLayer extends Construct {
  static readonly ID = 'RprRuntime';

  /** The stack's runtime layer, created with the first function that needs it. */
  static of(scope: Construct): RuntimeLayer {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(RuntimeLayer.ID) as RuntimeLayer | undefined) ?? new RuntimeLayer(stack, RuntimeLayer.ID);
  }

  readonly layer: LayerVersion;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.layer = new LayerVersion(this, 'Layer', {
      code: builtAsset(['layer']),
      compatibleRuntimes: [Runtime.NODEJS_22_X],
      compatibleArchitectures: [Architecture.ARM_64],
      description: `rpr runtime at ${LAYER_MOUNT}: the engine, the workflow handlers and the SDK clients they use`,
    });
  }
}

export interface FunctionDefaults {
  readonly entry: string;
  readonly description: string;
  readonly key: IKey;
  readonly environment: Record<string, string>;
  readonly timeout?: Duration;
  readonly memorySize?: number;
}

/**
 * The settings every rpr function shares: Node.js 22 on ARM, its own bundle (entry, adapter,
 * driver) over the stack's runtime layer, tracing, a JSON log group under the key.
 */
export function functionProps(scope: Construct, d: FunctionDefaults): FunctionProps & { readonly layers: ILayerVersion[] } {
  return {
    code: builtAsset(['function', d.entry]),
    handler: 'index.handler',
    layers: [RuntimeLayer.of(scope).layer],
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
  };
}
