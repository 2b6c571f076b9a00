import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The SDK's notice that its 2027 releases need Node 22; the suite runs on 20 and 22.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    include: ['test/**/*.test.ts'],
    // Installs (as root, when missing) and starts the real test servers; see test/servers/setup.sh.
    globalSetup: ['test/servers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Real-server suites share servers and accounts; files run one at a time on 2 cores.
    fileParallelism: false,
  },
});
