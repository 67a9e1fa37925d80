/**
 * Start-up, broken down: how long until a program's first task result, against the physical floor, and
 * where a worker's start-up goes. Measures the built package (`dist/`, built here first with the project's
 * build, scripts/build.mjs), the way users install it: `node bench/startup.ts [--rounds N] [--json]`. `bench/run.ts` runs it
 * with W5 and puts its table in docs/performance.md.
 *
 * Every measurement is a fresh process (or a fresh worker isolate for the breakdown); the programs are
 * interleaved within a round; medians over the rounds.
 *
 * - floor: a program that imports effect/Effect + effect/Schema, starts two workers that import the same
 *   (compile cache on, as ours), one round trip, ends them (bench/startup/floor-main.mjs). The physical
 *   floor of a pool of workers that run Effect tasks.
 * - W5 whole program, threads / processes: import effect-parallel, pool of 2, one task, close, exit
 *   (bench/startup/w5-main.mjs with bench/startup/tasks.mjs).
 * - the README program (bench/startup/readme.ts): `node readme.ts` as a user runs it, to its first result.
 * - main-thread imports: effect-parallel, effect's barrel and @effect/platform-node's, on top of
 *   effect/Effect + effect/Schema.
 * - a worker's start-up step by step (bench/startup/breakdown-worker.mjs), thread start included.
 */
import { execFileSync } from "node:child_process"

import { fileURLToPath, pathToFileURL } from "node:url"
import { Worker } from "node:worker_threads"

const argv = process.argv.slice(2)
const value = (name: string) => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}
const rounds = Number(value("--rounds") ?? 5)
if (!Number.isInteger(rounds) || rounds <= 0) throw new Error(`--rounds must be a positive integer, got ${value("--rounds")}`)

const root = fileURLToPath(new URL("../", import.meta.url))
const here = (file: string) => fileURLToPath(new URL(`./startup/${file}`, import.meta.url))
const dist = `${root}dist`

// the built package: `effect-parallel` resolves to it from bench/startup (the package's self-reference)
execFileSync(process.execPath, [`${root}scripts/build.mjs`], { stdio: "inherit" })

/** Runs a program in a fresh process; its last stdout line is JSON. Also the wall time, spawn to exit. */
const program = (file: string, args: ReadonlyArray<string> = []): Record<string, number> => {
  const t0 = performance.now()
  const out = execFileSync(process.execPath, [file, ...args], { encoding: "utf8", cwd: root, stdio: ["ignore", "pipe", "inherit"] })
  const wall = performance.now() - t0
  const lines = out.trim().split("\n")
  return { ...(JSON.parse(lines[lines.length - 1]!) as Record<string, number>), wall }
}

/** Milliseconds to import `specs` in a fresh process, on top of effect/Effect + effect/Schema. */
const importCost = (specs: ReadonlyArray<string>): number => {
  const code = `await import("effect/Effect");await import("effect/Schema");const t=performance.now();` +
    `for (const s of ${JSON.stringify(specs)}) await import(s);console.log(performance.now()-t)`
  return Number(execFileSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", cwd: here(".") }).trim())
}

/** A worker's start-up, step by step, in a fresh isolate: thread start (to its first line), then each import. */
const breakdown = (): Promise<Record<string, number>> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    const w = new Worker(pathToFileURL(here("breakdown-worker.mjs")), {
      workerData: { dist: pathToFileURL(dist).href, task: pathToFileURL(here("tasks.mjs")).href }
    })
    w.once("online", () => (started = performance.now() - t0))
    let started = 0
    w.once("message", (t: Record<string, number>) => {
      void w.terminate()
      resolve({ "thread start": started, ...t })
    })
    w.once("error", reject)
  })

const samples = new Map<string, Array<number>>()
const add = (key: string, v: number | undefined) => {
  if (v === undefined || !Number.isFinite(v)) return
  samples.set(key, [...(samples.get(key) ?? []), v])
}

for (let r = 0; r < rounds; r++) {
  const floor = program(here("floor-main.mjs"))
  add("floor: first result", floor["first"])
  add("floor: spawn to exit", floor["wall"])
  add("floor: workers ready after the imports", floor["ready"]! - floor["imported"]!)
  for (const backend of ["threads", "processes"]) {
    const w5 = program(here("w5-main.mjs"), [backend])
    add(`W5 ${backend}: first result`, w5["first"])
    add(`W5 ${backend}: spawn to exit`, w5["wall"])
    add(`W5 ${backend}: pool start to first result`, w5["first"]! - w5["imported"]!)
    add(`W5 ${backend}: close`, w5["closed"]! - w5["ready"]!)
  }
  const readme = program(here("readme.ts"))
  add("README program: first result", readme["first"])
  add("README program: its task", readme["task"])
  add("import effect-parallel", importCost(["effect-parallel"]))
  add("import effect (the barrel)", importCost(["effect"]))
  add("import @effect/platform-node (the barrel)", importCost(["@effect/platform-node"]))
  add("import @effect/platform-node/NodeRuntime", importCost(["@effect/platform-node/NodeRuntime"]))
  for (const [k, v] of Object.entries(await breakdown())) add(`worker: ${k}`, v)
  process.stderr.write(`startup round ${r + 1}/${rounds} done\n`)
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
export interface StartupResult {
  readonly rounds: number
  readonly rows: ReadonlyArray<{ readonly name: string; readonly median: number; readonly min: number; readonly max: number }>
}
const result: StartupResult = {
  rounds,
  rows: [...samples].map(([name, xs]) => ({ name, median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }))
}
if (argv.includes("--json")) process.stdout.write(`${JSON.stringify(result)}\n`)
else for (const r of result.rows) process.stdout.write(`${r.name.padEnd(60)} ${r.median.toFixed(1).padStart(8)} (${r.min.toFixed(1)}–${r.max.toFixed(1)})\n`)

