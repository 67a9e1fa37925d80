import { defineConfig } from "vitest/config"

/**
 * The long reliability runs (test/faults/): fault injection, interruption storms, bad input, soak, parent
 * death. `npm run test:faults` runs them at CI sizes (a few minutes); the sizes come from the environment
 * (FAULT_TASKS, FAULT_SINGLES, STORM_ROUNDS, SOAK_TASKS, …), see docs/reliability.md for the full run.
 */
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    // full-size runs take minutes per test; CI sizes take seconds
    testTimeout: 60 * 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // the soak test samples the heap after a forced GC
    execArgv: ["--expose-gc"]
  }
})
