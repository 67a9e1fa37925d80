import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/faults/**"],
    // Worker files are not transformed by Vite: worker_threads and child_process load them with Node's own
    // loader, which strips types natively on Node >= 22.18.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real workers on a 2-core machine: keep test files from competing for the same cores.
    fileParallelism: false
  }
})
