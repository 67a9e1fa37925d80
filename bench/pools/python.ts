// Python's multiprocessing.Pool (reference rows, not peers): the comparison our users make. Measured by a
// Python script of its own in a fresh python3 process (bench/python/pool.py), the same way bench/child.ts
// measures a Node pool: same sizes, warm-up, repetitions and checks; it times itself with perf_counter.
// Without python3 on the machine, the rows are left out.
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { PoolAdapter } from "./types.ts"

const script = fileURLToPath(new URL("../python/pool.py", import.meta.url))

/** "Python 3.11.7", or undefined when there is no python3. */
const pythonVersion = (): string | undefined => {
  try {
    return execFileSync("python3", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim()
  } catch {
    return undefined
  }
}

const version = pythonVersion()

const notInNode = (): Promise<never> => Promise.reject(new Error("measured by bench/python/pool.py, not in Node"))

export const adapters: ReadonlyArray<PoolAdapter> = version === undefined ? [] : [
  {
    id: "python-map",
    label: `${version} Pool.map`,
    kind: "reference",
    workloads: ["W1"],
    sumModes: [],
    external: { command: "python3", args: [script] },
    open: notInNode
  },
  {
    id: "python-apply",
    label: `${version} apply_async`,
    kind: "reference",
    workloads: ["W1", "W2", "W5"],
    sumModes: [],
    external: { command: "python3", args: [script] },
    open: notInNode
  }
]
