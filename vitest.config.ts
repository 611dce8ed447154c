import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['deploy/local/test/**/*.test.ts', 'libs/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'cli/test/**/*.test.ts'],
    // Every test talks to the real stack; this refuses to run any of them while a
    // component is down, rather than letting some skip or time out one by one.
    globalSetup: ['deploy/local/test/require-stack.ts'],
    // The services the tests start run as `npm start` runs them, on the local stack's
    // development credentials; tests of the rules for deployments set it otherwise.
    env: { TICKFLOW_ENV: 'local' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
