// Vitest configuration of the UI's unit tests: the pure logic under
// tests/unit/ runs in node (no DOM); the browser tests in tests/browser/ run
// separately on node's test runner against the real binary.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/unit/**/*.test.ts"],
    environment: "node",
  },
});
