/**
 * Benchmarks effect-parallel against every peer: `npm run bench` (full) or `npm run bench:quick`.
 *
 * Every (workload, pool) measurement runs in a fresh child process (bench/child.ts) with its own warm-up;
 * pools are interleaved within a round (A B C, A B C, …) over R rounds; every result is checked; a child
 * that does not answer within its time limit is killed and its cell reads "hung". The report goes to
 * docs/performance.md and docs/performance.svg.
 *
 * Options:
 *   --quick          smaller sizes, 1 round (about a minute on 2 cores; the full run about 10)
 *   --rounds R       rounds (default: 5, quick: 1)
 *   --workers N      pool size for W1, W2, W4, W5 (default 2); W3 also runs 1, 2, 4, … up to the cores
 *   --only W1,W3     run only these workloads
 *   --pools a,b      run only these pools (ids: sequential, bare, ep-threads, ep-threads-map, ep-processes,
 *                    ep-processes-map, piscina, tinypool, workerpool, poolifier, effect-rpc, python-map,
 *                    python-apply; the Python rows need python3 and are left out without it)
 *   --timeout S      seconds before a child is killed (default: quick 90, full 300)
 *   --no-write       print the report instead of writing docs/
 *   --no-startup     with W5, skip the start-up breakdown (bench/startup.ts, on the built package)
 */
import { execFileSync, spawn } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import { imageChecksum, mandelbrotRow } from "./kernels.ts"
import { loadAll } from "./pools/index.ts"
import type { PoolAdapter, SumMode } from "./pools/types.ts"
import { type CaseResult, renderMarkdown, renderSvg, type RunInfo } from "./report.ts"
import { type CaseSpec, type Measurement, rowsOf, sizesFor, type WorkloadId } from "./workloads.ts"

// -------------------------------------------------------------------------------------------------------------
// options

const argv = process.argv.slice(2)
const flag = (name: string) => argv.includes(name)
const value = (name: string): string | undefined => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}
const positiveInt = (name: string, fallback: number): number => {
  const v = value(name)
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(v)}`)
  return n
}

const quick = flag("--quick")
const rounds = positiveInt("--rounds", quick ? 1 : 5)
const workers = positiveInt("--workers", 2)
const timeoutMillis = positiveInt("--timeout", quick ? 90 : 300) * 1000
// a pool closes in well under a second; one that takes longer is noted (poolifier's destroy() can hang)
const closeTimeoutMillis = 3_000
const cycleTimeoutMillis = 15_000
const allWorkloads: ReadonlyArray<WorkloadId> = ["W1", "W2", "W3", "W4", "W5"]
const only = value("--only")?.split(",").map((w) => w.trim().toUpperCase() as WorkloadId) ?? allWorkloads
for (const w of only) if (!allWorkloads.includes(w)) throw new Error(`--only: unknown workload ${w}`)
const poolFilter = value("--pools")?.split(",").map((p) => p.trim())
const sizes = sizesFor(quick)
const cores = os.availableParallelism()

// -------------------------------------------------------------------------------------------------------------
// the plan

const registry = await loadAll()
for (const id of poolFilter ?? []) {
  if (!registry.some((r) => r.adapter.id === id)) throw new Error(`--pools: unknown pool ${id}`)
}
const selected = registry.filter((r) =>
  poolFilter === undefined || poolFilter.includes(r.adapter.id) || r.adapter.id === "sequential"
)

/** W3 runs on 1, 2, 4, … workers up to the usable cores (and --workers). */
const speedupWorkers = [...new Set([1, 2, ...[4, 8, 16, 32, 64].filter((p) => p < cores), cores, workers])]
  .filter((p) => p <= Math.max(cores, workers))
  .sort((a, b) => a - b)

// the sequential image's checksum: every pool's image must match it
const expected = imageChecksum(rowsOf(sizes).map((r) => mandelbrotRow(r.y, r.width, r.height, r.maxIter)))

interface Case {
  readonly key: string
  readonly adapter: PoolAdapter
  readonly spec: CaseSpec
}

const casesOf = (workload: WorkloadId): Array<Case> => {
  const out: Array<Case> = []
  for (const { file, adapter } of selected) {
    if (!adapter.workloads.includes(workload)) continue
    if (adapter.id === "sequential" && workload !== "W3" && poolFilter !== undefined && !poolFilter.includes("sequential")) {
      continue
    }
    const base = { workload, file, pool: adapter.id, sizes, closeTimeoutMillis, cycleTimeoutMillis }
    if (workload === "W3") {
      const ps = adapter.kind === "baseline" ? [1] : speedupWorkers
      for (const p of ps) out.push({ key: `${adapter.id}@${p}`, adapter, spec: { ...base, workers: p, expected } })
    } else if (workload === "W4") {
      for (const mode of adapter.sumModes) out.push({ key: `${adapter.id}:${mode}`, adapter, spec: { ...base, workers, mode } })
    } else {
      out.push({ key: adapter.id, adapter, spec: { ...base, workers } })
    }
  }
  return out
}

const plan: Array<Array<Case>> = []
for (let r = 0; r < rounds; r++) for (const w of only) plan.push(casesOf(w))

// -------------------------------------------------------------------------------------------------------------
// running one child

const childPath = fileURLToPath(new URL("./child.ts", import.meta.url))

interface ChildOutcome {
  readonly measurement: Measurement
  readonly note: string | undefined
}

const runChild = (adapter: PoolAdapter, spec: CaseSpec): Promise<ChildOutcome> =>
  new Promise((resolve) => {
    const [command, args] = adapter.external === undefined
      ? [process.execPath, [childPath]]
      : [adapter.external.command, adapter.external.args]
    const child = spawn(command, [...args, JSON.stringify(spec)], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    let timedOut = false
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-4000)))
    const timer = setTimeout(() => {
      timedOut = true
      child.kill("SIGKILL")
    }, timeoutMillis)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      const lines = stdout.split("\n")
      const result = lines.find((l) => l.startsWith("RESULT "))
      const noteLine = lines.find((l) => l.startsWith("NOTE "))
      let note = noteLine?.slice(5)
      let measurement: Measurement
      if (result !== undefined) {
        measurement = JSON.parse(result.slice(7)) as Measurement
        if (timedOut) note = `the process was killed after ${timeoutMillis / 1000} s, after its measurement (closing hung)`
      } else if (timedOut) {
        measurement = { status: "hung", samples: [], detail: `no result within ${timeoutMillis / 1000} s; the process was killed` }
      } else {
        const tail = stderr.trim().split("\n").slice(-3).join(" | ")
        measurement = { status: "error", samples: [], detail: `exited (${signal ?? code}) without a result: ${tail}` }
      }
      resolve({ measurement, note })
    })
  })

// -------------------------------------------------------------------------------------------------------------
// main

const results = new Map<string, CaseResult>() // key: `${workload}/${case key}`
const loadStart = os.loadavg()
const started = new Date()
const total = plan.reduce((n, batch) => n + batch.length, 0)
let done = 0

const unitOf: Record<WorkloadId, string> = { W1: "tasks/s", W2: "µs/task", W3: "ms", W4: "ms", W5: "ms" }
const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(2))

process.stderr.write(
  `effect-parallel benchmarks (${quick ? "quick" : "full"}): ${total} measurements, ${rounds} round(s), ` +
    `${workers} workers, Node ${process.version}, ${cores} cores\n`
)
for (const batch of plan) {
  for (const c of batch) {
    done++
    const label = `${c.spec.workload} ${c.adapter.label}${c.spec.mode ? ` (${c.spec.mode})` : ""}${
      c.spec.workload === "W3" && c.adapter.kind !== "baseline" ? ` ×${c.spec.workers}` : ""
    }`
    process.stderr.write(`[${String(done).padStart(3)}/${total}] ${label.padEnd(48)} `)
    const t0 = performance.now()
    const { measurement, note } = await runChild(c.adapter, c.spec)
    const secs = ((performance.now() - t0) / 1000).toFixed(1)
    const shown = measurement.status === "ok"
      ? measurement.samples.map(fmt).join(", ") + ` ${unitOf[c.spec.workload]}`
      : `${measurement.status}: ${measurement.detail ?? ""}`
    process.stderr.write(`${shown}${note ? `  [note: ${note}]` : ""}  (${secs} s)\n`)
    const key = `${c.spec.workload}/${c.key}`
    const prev = results.get(key) ?? {
      workload: c.spec.workload,
      key: c.key,
      adapter: { id: c.adapter.id, label: c.adapter.label, kind: c.adapter.kind },
      workers: c.spec.workers,
      mode: c.spec.mode as SumMode | undefined,
      measurements: [],
      notes: []
    }
    results.set(key, {
      ...prev,
      measurements: [...prev.measurements, measurement],
      notes: note === undefined ? prev.notes : [...prev.notes, note]
    })
  }
}

/** Versions of everything measured, and the commit of this repository (with a mark if src/ has local changes). */
const versions = (): Record<string, string> => {
  const root = new URL("../", import.meta.url)
  const version = (pkg: string) => {
    try {
      return (JSON.parse(readFileSync(new URL(`node_modules/${pkg}/package.json`, root), "utf8")) as { version: string }).version
    } catch {
      return "?"
    }
  }
  let commit = "unknown commit"
  try {
    const cwd = fileURLToPath(root)
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd, encoding: "utf8" }).trim()
    const dirty = execFileSync("git", ["status", "--porcelain", "src"], { cwd, encoding: "utf8" }).trim() !== ""
    commit = `${head}${dirty ? " + uncommitted changes in src/" : ""}`
  } catch {
    // not a git checkout
  }
  const own = (JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { version: string }).version
  return {
    "effect-parallel": `${own} (${commit})`,
    effect: version("effect"),
    "@effect/platform-node": version("@effect/platform-node"),
    piscina: version("piscina"),
    tinypool: version("tinypool"),
    workerpool: version("workerpool"),
    poolifier: version("poolifier")
  }
}

/** With W5: the start-up breakdown (bench/startup.ts, on the built package), after the rounds. */
const startup = ((): RunInfo["startup"] => {
  if (!only.includes("W5") || flag("--no-startup")) return undefined
  process.stderr.write(`start-up breakdown (bench/startup.ts, ${rounds} round(s))\n`)
  try {
    const out = execFileSync(process.execPath, [fileURLToPath(new URL("./startup.ts", import.meta.url)), "--json", "--rounds", String(rounds)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      timeout: timeoutMillis * rounds
    })
    const lines = out.trim().split("\n")
    return JSON.parse(lines[lines.length - 1]!) as RunInfo["startup"]
  } catch (e) {
    process.stderr.write(`start-up breakdown failed: ${e instanceof Error ? e.message : String(e)}\n`)
    return undefined
  }
})()

const info: RunInfo = {
  quick,
  date: started,
  seconds: (Date.now() - started.getTime()) / 1000,
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? "unknown",
  cores,
  loadStart,
  loadEnd: os.loadavg(),
  platform: `${os.type()} ${os.release()} ${os.arch()}`,
  rounds,
  workers,
  speedupWorkers,
  sizes,
  workloads: only,
  command: `node bench/run.ts ${argv.join(" ")}`.trim(),
  versions: versions(),
  startup
}
const all = [...results.values()]
const markdown = renderMarkdown(info, all)
const svg = renderSvg(info, all)
if (flag("--no-write")) {
  process.stdout.write(markdown)
} else {
  const md = fileURLToPath(new URL("../docs/performance.md", import.meta.url))
  const svgPath = fileURLToPath(new URL("../docs/performance.svg", import.meta.url))
  writeFileSync(md, markdown)
  writeFileSync(svgPath, svg)
  process.stderr.write(`wrote ${md} and ${svgPath} (${info.seconds.toFixed(0)} s)\n`)
}
