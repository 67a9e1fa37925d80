/**
 * What a worker's heap costs a W4 call: the same bare worker, holding nothing, Effect, or this package.
 *
 *   node_modules/.bin/node bench/w4-heap.ts             # 3 rounds, copy and transfer
 *   node_modules/.bin/node bench/w4-heap.ts --rounds 5
 *
 * Each 64 MiB `Float64Array` that reaches a worker (copied or transferred) is new external memory, and V8
 * answers it with a full garbage collection whose cost grows with the worker's live heap. To separate
 * that from any pool's code, one bare worker (it sums what it receives and posts the sum back: no queue,
 * no schema, no fiber) first imports:
 *
 * - "none": nothing but the kernel (`kernels.ts`; a `.ts` module, as every peer's worker file in the bench);
 * - "effect": `effect/Effect` and `effect/Schema`, the floor of a worker that runs Effect tasks;
 * - "package": `bench/tasks.ts`, what the bench's effect-parallel workers import (Effect, Schema and this
 *   package's barrel from `src/`).
 *
 * Per variant, in a fresh process: three warm-up calls, 8 timed (median, ms), and the worker's own count
 * and duration of garbage collections per call (`PerformanceObserver`, entry type "gc") and its used heap.
 * Variants are interleaved within a round. docs/performance-notes.md (issue 17, fifth sitting) reads it.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { parentPort, Worker, workerData } from "node:worker_threads"

const self = fileURLToPath(import.meta.url)
const argv = process.argv.slice(2)

type Load = "none" | "effect" | "package"
type Mode = "copy" | "transfer"
const loads: ReadonlyArray<Load> = ["none", "effect", "package"]
const modes: ReadonlyArray<Mode> = ["copy", "transfer"]

interface Sample {
  readonly load: Load
  readonly mode: Mode
  /** Median of the timed calls, ms. */
  readonly call: number
  readonly gcMillisPerCall: number
  readonly gcsPerCall: number
  /** The worker's used heap after the calls, MB. */
  readonly heapMb: number
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]!
}

/** The bare worker: imports what its load names, then sums every array it receives. */
const worker = async (port: NonNullable<typeof parentPort>, load: Load): Promise<void> => {
  if (load === "effect") {
    await import("effect/Effect")
    await import("effect/Schema")
  }
  if (load === "package") await import("./tasks.ts")
  const { sumArray } = await import("./kernels.ts")
  const { PerformanceObserver } = await import("node:perf_hooks")
  let gcMillis = 0
  let gcs = 0
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMillis += e.duration
      gcs++
    }
  }).observe({ entryTypes: ["gc"] })
  port.on("message", (m: Float64Array | "stats") => {
    if (m !== "stats") return port.postMessage(sumArray(m))
    port.postMessage([gcMillis, gcs, process.memoryUsage().heapUsed])
    gcMillis = 0
    gcs = 0
  })
  port.postMessage("ready")
}

const WARMUP = 3
const CALLS = 8

const measure = async (load: Load, mode: Mode): Promise<Sample> => {
  const w = new Worker(self, { workerData: { load } })
  const next = () => new Promise<any>((resolve) => w.once("message", resolve))
  await next()
  const data = new Float64Array(8 * 1024 * 1024)
  for (let i = 0; i < data.length; i++) data[i] = i % 7
  const times: Array<number> = []
  for (let i = 0; i < WARMUP + CALLS; i++) {
    // transfer: a fresh copy each call, made before the clock starts (the caller's array is detached)
    const x = mode === "transfer" ? data.slice() : data
    const t0 = performance.now()
    w.postMessage(x, mode === "transfer" ? [x.buffer] : [])
    await next()
    if (i >= WARMUP) times.push(performance.now() - t0)
  }
  w.postMessage("stats")
  const [gcMillis, gcs, heap] = (await next()) as [number, number, number]
  await w.terminate()
  const calls = WARMUP + CALLS
  return { load, mode, call: median(times), gcMillisPerCall: gcMillis / calls, gcsPerCall: gcs / calls, heapMb: heap / 1e6 }
}

const runChild = (load: Load, mode: Mode): Promise<Sample> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self, "--measure", load, mode], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (d: Buffer) => (out += d.toString()))
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`${load} ${mode} exited with ${code}`))
      resolve(JSON.parse(out.trim().split("\n").pop()!) as Sample)
    })
  })

if (parentPort !== null) {
  await worker(parentPort, (workerData as { readonly load: Load }).load)
} else if (argv.includes("--measure")) {
  const i = argv.indexOf("--measure")
  console.log(JSON.stringify(await measure(argv[i + 1] as Load, argv[i + 2] as Mode)))
} else {
  const i = argv.indexOf("--rounds")
  const rounds = i >= 0 ? Number(argv[i + 1]) : 3
  const samples: Array<Sample> = []
  for (let r = 0; r < rounds; r++) {
    for (const mode of modes) {
      for (const load of loads) {
        const s = await runChild(load, mode)
        samples.push(s)
        console.error(`round ${r + 1}/${rounds} ${mode} ${load}: ${s.call.toFixed(2)} ms, gc ${s.gcMillisPerCall.toFixed(2)} ms/call`)
      }
    }
  }
  const f = (x: number, digits = 2) => x.toFixed(digits)
  console.log(`W4 through a bare worker, 64 MiB, ${rounds} rounds × ${CALLS} calls, medians (load ${(await import("node:os")).loadavg()[0]!.toFixed(2)})\n`)
  console.log("| mode | the worker imports | call, ms | its GC per call, ms | GCs per call | used heap, MB |")
  console.log("| --- | --- | ---: | ---: | ---: | ---: |")
  for (const mode of modes) {
    for (const load of loads) {
      const of = samples.filter((s) => s.load === load && s.mode === mode)
      const m = (pick: (s: Sample) => number) => median(of.map(pick))
      console.log(
        `| ${mode} | ${load} | ${f(m((s) => s.call))} | ${f(m((s) => s.gcMillisPerCall))} | ${f(m((s) => s.gcsPerCall))} | ${f(m((s) => s.heapMb), 1)} |`
      )
    }
  }
}
