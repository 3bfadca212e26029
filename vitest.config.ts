import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "packages/*/src/**/*.test.ts",
            "actions/*/src/**/*.test.ts",
            // Tests of the test tools themselves (simulators, workflow checks) that need no lab.
            "test/**/*.test.ts",
          ],
          exclude: ["**/*.itg.test.ts", "**/node_modules/**"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.itg.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // The lab hosts are shared state: one file at a time, one worker.
          fileParallelism: false,
          maxWorkers: 1,
        },
      },
    ],
  },
});
