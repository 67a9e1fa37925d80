/**
 * The Mandelbrot image of `../mandelbrot.ts` on a cluster: the same rows, sent with `WorkerPool.map` to
 * runner processes through `WorkerPool.layerCluster` (Effect Cluster, Postgres storage), checked row by
 * row against the serial image, and written to `out/mandelbrot-cluster.png`. Prints which runner
 * computed how many rows.
 *
 *   node examples/cluster/mandelbrot.ts                  # 1200x1200, 500 iterations, 2 runners
 *   node examples/cluster/mandelbrot.ts --small          # 300x300, 200 iterations (CI); or SMALL=1
 *   node examples/cluster/mandelbrot.ts --runners=3      # how many runner processes to start
 *   node examples/cluster/mandelbrot.ts --postgres=URL   # the Postgres server (default: EFFECT_PARALLEL_PG_URL,
 *                                                        # or the one of `bash scripts/postgres.sh start`)
 *
 * On one machine (what it does by default): it creates a fresh database `ep_example_<random>` on the
 * server, starts `--runners` runner processes on loopback (one worker thread each), runs the batch, then
 * stops the runners and drops the database.
 *
 * Across several hosts: deploy the same checkout (or image) at the same path on every host (runners
 * import the task module by its URL), and give them all one Postgres database. On each runner host:
 *
 *   npx effect-parallel runner --postgres postgres://user@db:5432/jobs --host <this host's address> \
 *     --port 34431 --size cores --timings fast-failover
 *
 * (`--host` is the address the others reach it at; open the port between hosts). Then run the client
 * anywhere with the same database and `--runners=0`, which starts nothing and uses the runners already
 * serving it; `--size=N` is the number of messages in flight, about the worker threads of all runners:
 *
 *   node examples/cluster/mandelbrot.ts --runners=0 --postgres=postgres://user@db:5432/jobs --size=16
 *
 * In your own program that is `WorkerPool.layerCluster({ postgres, size, timings: "fast-failover" })`.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { WorkerPool } from "../../src/index.ts"
import { computeRow, type RowSpec } from "../mandelbrot.tasks.ts"
import { mandelbrotPng } from "../png.ts"
import { defaultPostgres, freshDatabase, type Runner, startRunner } from "./local.ts"
import { RenderRow } from "./mandelbrot.tasks.ts"

const option = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const count = (name: string, fallback: number, min: number): number => {
  const n = Number(option(name) ?? fallback)
  if (!(Number.isInteger(n) && n >= min)) throw new Error(`--${name} must be an integer >= ${min}, got ${option(name)}`)
  return n
}
const small = process.argv.includes("--small") || process.env.SMALL === "1"
const size = small ? { width: 300, height: 300, maxIter: 200 } : { width: 1200, height: 1200, maxIter: 500 }
const runners = count("runners", 2, 0)
const inFlight = count("size", Math.max(runners, 1) * 2, 1)
const server = option("postgres") ?? defaultPostgres
const outDir = option("out") ?? process.env.OUT_DIR ?? "out"

const ms = (d: Duration.Duration) => Duration.toMillis(d).toFixed(0).padStart(6)

const program = Effect.gen(function*() {
  const { width, height, maxIter } = size
  const specs: Array<RowSpec> = Array.from({ length: height }, (_, y) => ({ y, width, height, maxIter }))
  console.log(`Mandelbrot ${width}x${height}, ${maxIter} iterations, one task per row, on a cluster\n`)

  const [serialElapsed, serial] = yield* Effect.timed(Effect.sync(() => specs.map(computeRow)))
  console.log(`  serial (main thread)              ${ms(serialElapsed)} ms`)

  // the cluster: a fresh database and runners on loopback, or (--runners=0) the database as given
  let postgres = server
  let started: ReadonlyArray<Runner> = []
  if (runners > 0) {
    postgres = yield* freshDatabase(server)
    const [startElapsed, list] = yield* Effect.timed(
      Effect.forEach(Array.from({ length: runners }), () => startRunner(postgres, 1), { concurrency: "unbounded" })
    )
    started = list
    console.log(`  ${runners} runner processes started      ${ms(startElapsed)} ms   (database ${new URL(postgres).pathname.slice(1)})`)
  }

  const [readyElapsed, [clusterElapsed, rows]] = yield* Effect.gen(function*() {
    // the first task waits for the runners to answer; waiting here keeps that out of the batch's time
    const ready = yield* Effect.timed(WorkerPool.awaitReady)
    return [ready[0], yield* Effect.timed(WorkerPool.map(RenderRow, specs))] as const
  }).pipe(Effect.provide(WorkerPool.layerCluster({ postgres, size: inFlight, timings: "fast-failover" })))
  console.log(`  cluster client ready              ${ms(readyElapsed)} ms`)
  console.log(`  WorkerPool.map on the cluster     ${ms(clusterElapsed)} ms   (size ${inFlight})`)

  // the same image, row by row and bit for bit
  rows.forEach(({ row }, y) => {
    const expected = serial[y]!
    if (row.length !== expected.length || row.some((v, x) => !Object.is(v, expected[x]))) {
      throw new Error(`row ${y} computed on the cluster differs from the serial one`)
    }
  })

  const byPid = new Map<number, number>()
  for (const { pid } of rows) byPid.set(pid, (byPid.get(pid) ?? 0) + 1)
  console.log("\nRows per runner:")
  for (const [pid, n] of [...byPid].sort((a, b) => a[0] - b[0])) {
    const runner = started.find((r) => r.pid === pid)
    console.log(`  pid ${String(pid).padStart(7)}${runner === undefined ? "" : ` (${runner.address})`}  ${String(n).padStart(5)} rows`)
  }

  fs.mkdirSync(outDir, { recursive: true })
  const file = path.join(outDir, "mandelbrot-cluster.png")
  const png = mandelbrotPng(rows.map((r) => r.row), width, maxIter)
  fs.writeFileSync(file, png)
  console.log(`\nThe cluster's image is identical to the serial one. Wrote ${file} (${(png.length / 1024).toFixed(0)} KiB).`)
  if (small) console.log("At --small size the work is too small to pay for the messages: the serial loop wins.")
})

NodeRuntime.runMain(
  program.pipe(
    Effect.scoped, // stops the runners, then drops the database
    Effect.andThen(Effect.sync(() => {
      if (runners > 0) console.log(`Stopped the ${runners} runners and dropped the database.`)
    }))
  )
)
