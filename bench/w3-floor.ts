/**
 * W3 per task against its floors: where a pool's time per task goes when every core is busy.
 *
 *   node_modules/.bin/node bench/w3-floor.ts             # 3 rounds of 8 runs per variant
 *   node_modules/.bin/node bench/w3-floor.ts --rounds 5
 *
 * W3 (1,200 Mandelbrot rows, one task per row, 2 workers) on a 2-core machine keeps both cores busy, so a
 * run's wall time is about the CPU time of every thread and process involved, over the cores: a
 * microsecond of the parent's CPU per task costs the workers half of it. This measures, per run, the wall
 * time and that CPU time (the pool's process, worker threads included; child processes read from
 * `/proc/<pid>/schedstat`, Linux only) for:
 *
 * - "bare threads" / "bare processes": the floor of each transport, a parent that keeps two rows in flight
 *   per worker and a worker that answers `[id, checksum]` (no queue, no errors, no cancellation; processes:
 *   `child_process.fork` with `serialization: "advanced"`, as the process pool's IPC, and with "json");
 * - poolifier's `FixedThreadPool` (W3's best peer in docs/performance.md), and two process peers: poolifier's
 *   `FixedClusterPool` (`node:cluster` workers, its default IPC serialization) and workerpool with
 *   `workerType: "process"`;
 * - effect-parallel threads and processes, per task (`Effect.forEach(rows, MandelbrotRow, { concurrency:
 *   "unbounded" })`, as the bench's W3 cell).
 *
 * Each variant runs in a fresh process (one warm-up run, 8 timed), variants interleaved within a round.
 * Prints a Markdown table of medians; docs/performance-notes.md (issue 17, fifth sitting) reads it.
 */
import { fork, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { parentPort } from "node:worker_threads"
import { mandelbrotRow } from "./kernels.ts"

const self = fileURLToPath(import.meta.url)
const argv = process.argv.slice(2)

type Variant =
  | "bare-threads"
  | "bare-processes"
  | "bare-processes-json"
  | "poolifier"
  | "poolifier-processes"
  | "workerpool-processes"
  | "ep-threads"
  | "ep-processes"
const variants: ReadonlyArray<Variant> = [
  "bare-threads",
  "bare-processes",
  "bare-processes-json",
  "poolifier",
  "poolifier-processes",
  "workerpool-processes",
  "ep-threads",
  "ep-processes"
]

interface Sample {
  readonly variant: Variant
  /** Wall time of each timed run, ms. */
  readonly wall: ReadonlyArray<number>
  /** CPU time of the pool's process (its threads included) per run, ms. */
  readonly cpu: ReadonlyArray<number>
  /** CPU time of its child processes per run, ms (undefined where /proc cannot tell). */
  readonly childCpu: ReadonlyArray<number> | undefined
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]!
}

/** CPU time (ms) of this process's child processes so far, or undefined off Linux. */
const childrenCpu = (): number | undefined => {
  try {
    const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim().split(/\s+/)
    let ns = 0
    for (const pid of children) if (pid !== "") ns += Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0])
    return ns / 1e6
  } catch {
    return undefined
  }
}

/** A bare worker: answers each `[id, y, width, height, maxIter]` with `[id, checksum]`. */
const bareWorker = (): void => {
  const row = (m: ReadonlyArray<number>) => [m[0], mandelbrotRow(m[1]!, m[2]!, m[3]!, m[4]!)]
  if (parentPort !== null) {
    const port = parentPort
    port.on("message", (m: ReadonlyArray<number>) => port.postMessage(row(m)))
  } else {
    process.on("message", (m: ReadonlyArray<number>) => process.send!(row(m)))
  }
}

/** One variant in this process: a warm-up run, then `runs` timed runs; the pool is left open (`close`). */
const measureVariant = async (variant: Variant, runs: number): Promise<{ readonly sample: Sample; readonly close: () => Promise<unknown> }> => {
  const { rowsOf, sizesFor } = await import("./workloads.ts")
  const rows = rowsOf(sizesFor(false))
  let run: () => Promise<unknown>
  let close: () => Promise<unknown>
  if (variant === "bare-threads" || variant === "bare-processes" || variant === "bare-processes-json") {
    const { Worker } = await import("node:worker_threads")
    type Bare = { readonly send: (m: unknown) => void; readonly close: () => void }
    let next = 0
    let done = 0
    let finished: () => void = () => undefined
    const workers: Array<Bare> = []
    const feed = (w: Bare) => {
      if (next >= rows.length) return
      const r = rows[next]!
      w.send([next++, r.y, r.width, r.height, r.maxIter])
    }
    for (let i = 0; i < 2; i++) {
      let w: Bare
      const onReply = () => {
        feed(w)
        if (++done === rows.length) finished()
      }
      if (variant === "bare-threads") {
        const t = new Worker(self, { argv: ["--floor-worker"] })
        t.on("message", onReply)
        w = { send: (m) => t.postMessage(m), close: () => void t.terminate() }
      } else {
        const c = fork(self, ["--floor-worker"], { serialization: variant === "bare-processes" ? "advanced" : "json" })
        c.on("message", onReply)
        w = { send: (m) => c.send(m as never), close: () => void c.kill() }
      }
      workers.push(w)
    }
    run = () =>
      new Promise<void>((resolve) => {
        finished = resolve
        next = 0
        done = 0
        // two rows in flight per worker: it never waits for the parent between rows
        for (const w of workers) for (let k = 0; k < 2; k++) feed(w)
      })
    close = async () => workers.forEach((w) => w.close())
  } else if (variant === "poolifier") {
    const { FixedThreadPool } = await import("poolifier")
    const pool = new FixedThreadPool<unknown, number>(2, fileURLToPath(new URL("./workers/poolifier.ts", import.meta.url)))
    run = () => Promise.all(rows.map((r) => pool.execute(r, "mandelbrotRow")))
    close = () => pool.destroy()
  } else if (variant === "poolifier-processes") {
    const { FixedClusterPool } = await import("poolifier")
    const pool = new FixedClusterPool<unknown, number>(2, fileURLToPath(new URL("./workers/poolifier-cluster.ts", import.meta.url)))
    run = () => Promise.all(rows.map((r) => pool.execute(r)))
    close = () => pool.destroy()
  } else if (variant === "workerpool-processes") {
    const { default: workerpool } = await import("workerpool")
    const script = fileURLToPath(new URL("./workers/workerpool.ts", import.meta.url))
    const pool = workerpool.pool(script, { minWorkers: 2, maxWorkers: 2, workerType: "process" })
    run = () => Promise.all(rows.map((r) => pool.exec("mandelbrotRow", [r])))
    close = async () => {
      await pool.terminate()
    }
  } else {
    const { Effect, ManagedRuntime } = await import("effect")
    const { WorkerPool } = await import("../src/index.ts")
    const { MandelbrotRow } = await import("./tasks.ts")
    const runtime = ManagedRuntime.make(
      variant === "ep-threads" ? WorkerPool.layerThreads({ size: 2 }) : WorkerPool.layerProcesses({ size: 2 })
    )
    await runtime.runPromise(Effect.void)
    run = () => runtime.runPromise(Effect.forEach(rows, (r) => MandelbrotRow(r), { concurrency: "unbounded" }))
    close = () => runtime.dispose()
  }
  await run()
  const wall: Array<number> = []
  const cpu: Array<number> = []
  const childCpu: Array<number> = []
  let childrenKnown = true
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage()
    const k0 = childrenCpu()
    const t0 = performance.now()
    await run()
    wall.push(performance.now() - t0)
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / 1000)
    const k1 = childrenCpu()
    if (k0 === undefined || k1 === undefined) childrenKnown = false
    else childCpu.push(k1 - k0)
  }
  return { sample: { variant, wall, cpu, childCpu: childrenKnown ? childCpu : undefined }, close }
}

const runChild = (variant: Variant): Promise<Sample> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self, "--variant", variant], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (d: Buffer) => (out += d.toString()))
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`${variant} exited with ${code}`))
      resolve(JSON.parse(out.trim().split("\n").pop()!) as Sample)
    })
  })

if (argv.includes("--floor-worker")) {
  bareWorker()
} else if (argv.includes("--variant")) {
  const { close, sample } = await measureVariant(argv[argv.indexOf("--variant") + 1] as Variant, 8)
  console.log(JSON.stringify(sample))
  // a pool that does not close within 3 s (poolifier's destroy() can hang, see bench/run.ts) is left to the exit
  await Promise.race([close(), new Promise((resolve) => setTimeout(resolve, 3_000))])
  process.exit(0)
} else {
  const i = argv.indexOf("--rounds")
  const rounds = i >= 0 ? Number(argv[i + 1]) : 3
  const samples = new Map<Variant, Array<Sample>>(variants.map((v) => [v, []]))
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const s = await runChild(v)
      samples.get(v)!.push(s)
      console.error(`round ${r + 1}/${rounds} ${v}: wall ${median(s.wall).toFixed(1)} ms, cpu ${median(s.cpu).toFixed(1)} ms`)
    }
  }
  const all = (v: Variant, pick: (s: Sample) => ReadonlyArray<number> | undefined) => {
    const xs = samples.get(v)!.flatMap((s) => pick(s) ?? [])
    return xs.length === 0 ? undefined : median(xs)
  }
  const totalOf = (v: Variant) => {
    const cpu = all(v, (s) => s.cpu)!
    const children = all(v, (s) => s.childCpu)
    return v.includes("processes") ? (children === undefined ? undefined : cpu + children) : cpu
  }
  const floorOf = (v: Variant) => (v.includes("processes") ? "bare-processes" : "bare-threads")
  const f = (x: number | undefined) => (x === undefined ? "—" : x.toFixed(1))
  console.log(`W3 per task, 2 workers, ${rounds} rounds × 8 runs, medians (load ${(await import("node:os")).loadavg()[0]!.toFixed(2)})\n`)
  console.log("| variant | wall, ms | CPU, the pool's process (its threads included), ms | CPU, child processes, ms | CPU, all, ms | CPU over its transport's floor, ms |")
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |")
  for (const v of variants) {
    const total = totalOf(v)
    const floor = totalOf(floorOf(v))
    const over = v.startsWith("bare") || total === undefined || floor === undefined ? undefined : total - floor
    const children = v.includes("processes") ? all(v, (s) => s.childCpu) : undefined
    console.log(`| ${v} | ${f(all(v, (s) => s.wall))} | ${f(all(v, (s) => s.cpu))} | ${f(children)} | ${f(total)} | ${f(over)} |`)
  }
}
