/**
 * Usable cores: `os.availableParallelism()` bounded by the cgroup CPU quota, so that a container limited
 * to 2 CPUs on a 64-core host gets 2 workers, not 64 (Python's `cpu_count()` gets this wrong).
 *
 * @internal
 */
import * as fs from "node:fs"
import * as os from "node:os"

const readQuota = (): number | undefined => {
  // cgroup v2: "max 100000" or "200000 100000"
  try {
    const [quota, period] = fs.readFileSync("/sys/fs/cgroup/cpu.max", "utf8").trim().split(/\s+/)
    if (quota !== undefined && quota !== "max" && period !== undefined) {
      const q = Number(quota) / Number(period)
      if (Number.isFinite(q) && q > 0) return q
    }
  } catch {
    // not cgroup v2, or not Linux
  }
  // cgroup v1
  try {
    const quota = Number(fs.readFileSync("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "utf8"))
    const period = Number(fs.readFileSync("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "utf8"))
    if (quota > 0 && period > 0) return quota / period
  } catch {
    // no cgroup v1 CPU controller
  }
  return undefined
}

/** Computes the usable core count from the two inputs (exported for tests). */
export const coresFrom = (available: number, quota: number | undefined): number =>
  Math.max(1, quota === undefined ? available : Math.min(available, Math.ceil(quota)))

let cached: number | undefined

export const cores = (): number => {
  if (cached === undefined) {
    const available = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length
    cached = coresFrom(available, readQuota())
  }
  return cached
}
