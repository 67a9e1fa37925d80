/**
 * Where a Mandelbrot image's time goes on the cluster: `node bench/cluster-image.ts [--images N]
 * [--only persisted,volatile,threads] [--chunk K]`.
 *
 * The image of `bench/cluster.ts`'s bytes section (1200x1200, 500 iterations, one task per row, rows as
 * `Float32Array`), on one runner of 2 workers with clients of `size: 4`, persisted and volatile, against local
 * threads of 2 workers; the three alternate image by image (a busy moment of the machine weighs on all of
 * them alike). Per image: the wall time, and the CPU time of the client's main thread and of its other
 * threads, of the runner's main thread and of its other threads (workers, GC), and of this database's
 * Postgres backends (`/proc`); the transactions and rows Postgres counted (`pg_stat_database`), and the
 * messages stored. Medians over the images. `--chunk K`: rows per message fixed at K (the `map` option
 * `chunkSize`) instead of the client's policy.
 *
 * Not part of `npm run bench`: a diagnostic (Linux: it reads `/proc`; Postgres on this machine). Run it
 * under the shared lock on a shared machine.
 */
import { NodeRuntime } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { readdirSync, readFileSync } from "node:fs"
import * as os from "node:os"
import { computeRow, type RowSpec } from "../examples/mandelbrot.tasks.ts"
import { WorkerPool } from "../src/index.ts"
import { freshDatabase, startRunner } from "../test/cluster/setup.ts"
import { RowBytes } from "./cluster-tasks.ts"

const argv = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const k = argv.indexOf(name)
  return k >= 0 ? argv[k + 1] : undefined
}
const IMAGES = Number(flag("--images") ?? 5)
const CHUNK = flag("--chunk") === undefined ? undefined : Number(flag("--chunk"))
const kinds = (flag("--only") ?? "persisted,volatile,threads").split(",") as Array<"persisted" | "volatile" | "threads">

const image = { width: 1200, height: 1200, maxIter: 500 }
const specs: Array<RowSpec> = Array.from({ length: image.height }, (_, y) => ({ y, ...image }))
const serial = specs.map(computeRow)

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/** CPU milliseconds of a process's main thread and of its other threads, and by thread name. */
const cpuOf = (pid: number): { main: number; other: number; byName: Record<string, number> } => {
  const out = { main: 0, other: 0, byName: {} as Record<string, number> }
  let tids: Array<string>
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const tid of tids) {
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")
    } catch {
      continue
    }
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const ms = (Number(f[11]) + Number(f[12])) * 10 // USER_HZ 100
    if (Number(tid) === pid) out.main += ms
    else out.other += ms
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))
    out.byName[name] = (out.byName[name] ?? 0) + ms
  }
  return out
}

const program = Effect.gen(function*() {
  const load0 = os.loadavg()
  const db = yield* freshDatabase
  const runner = yield* startRunner(db, { size: 2 })
  const sqlContext = yield* Layer.build(PgClient.layer({ url: Redacted.make(db) }))
  const sql = <A extends object>(f: (sql: SqlClient) => Effect.Effect<ReadonlyArray<A>, unknown>) =>
    Effect.flatMap(SqlClient, f).pipe(Effect.provideContext(sqlContext), Effect.orDie)
  const ownPid = (yield* sql((s) => s<{ pid: number }>`SELECT pg_backend_pid() AS pid`))[0]!.pid
  // Postgres publishes a backend's counters about once a second: a moment is waited first
  const counters = () =>
    Effect.map(
      sql((s) =>
        s<{ xact: string; ins: string; upd: string }>`
          SELECT xact_commit AS xact, tup_inserted AS ins, tup_updated AS upd FROM pg_stat_database WHERE datname = current_database()`
      ),
      ([r]) => ({ xact: Number(r!.xact), ins: Number(r!.ins), upd: Number(r!.upd) })
    ).pipe(Effect.delay("1100 millis"))
  const backends = () =>
    Effect.map(
      sql((s) => s<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`),
      (rows) => rows.map((r) => r.pid).filter((p) => p !== ownPid)
    )
  const messages = () => Effect.map(sql((s) => s<{ n: string }>`SELECT count(*) AS n FROM cluster_messages WHERE tag = 'Run'`), (r) => Number(r[0]!.n))

  const pools = {
    persisted: yield* Layer.build(WorkerPool.layerCluster({ postgres: db, delivery: "persisted", size: 4, timings: "fast-failover" })),
    volatile: yield* Layer.build(WorkerPool.layerCluster({ postgres: db, delivery: "volatile", size: 4, timings: "fast-failover" })),
    threads: yield* Layer.build(WorkerPool.layerThreads({ size: 2 }))
  }
  const map = (kind: keyof typeof pools, rows: ReadonlyArray<RowSpec>, chunkSize?: number) =>
    Effect.provideContext(WorkerPool.map(RowBytes, rows, chunkSize === undefined ? undefined : { chunkSize }), pools[kind])
  for (const k of kinds) {
    yield* Effect.provideContext(WorkerPool.awaitReady, pools[k])
    yield* map(k, specs.slice(0, 16), 1)
    yield* map(k, specs, CHUNK) // a whole image to warm up
  }

  type Row = Record<string, number>
  const rows: Record<string, Array<Row>> = { persisted: [], volatile: [], threads: [] }
  for (let i = 0; i < IMAGES; i++) {
    const order = i % 2 === 0 ? kinds : [...kinds].reverse()
    for (const k of order) {
      const n0 = k === "threads" ? { xact: 0, ins: 0, upd: 0 } : yield* counters()
      const m0 = k === "persisted" ? yield* messages() : 0
      const pg = yield* backends()
      const p0 = pg.map(cpuOf)
      const c0 = cpuOf(process.pid)
      const r0 = cpuOf(runner.pid)
      const t0 = performance.now()
      const out = yield* map(k, specs, CHUNK)
      const wall = performance.now() - t0
      const c1 = cpuOf(process.pid)
      const r1 = cpuOf(runner.pid)
      const p1 = pg.map(cpuOf)
      const n1 = k === "threads" ? { xact: 0, ins: 0, upd: 0 } : yield* counters()
      const m1 = k === "persisted" ? yield* messages() : 0
      out.forEach((row, y) => {
        const e = serial[y]!
        for (let x = 0; x < e.length; x++) if (!Object.is(row[x], e[x])) throw new Error(`${k}: row ${y} differs at ${x}`)
      })
      const names: Record<string, number> = {}
      for (const [name, ms] of Object.entries(r1.byName)) names[`runner ${name}`] = ms - (r0.byName[name] ?? 0)
      for (const [name, ms] of Object.entries(c1.byName)) names[`client ${name}`] = ms - (c0.byName[name] ?? 0)
      rows[k]!.push({
        ...names,
        wall,
        clientMain: c1.main - c0.main,
        clientOther: c1.other - c0.other,
        runnerMain: r1.main - r0.main,
        runnerOther: r1.other - r0.other,
        postgres: p1.reduce((s, c, j) => s + c.main + c.other - p0[j]!.main - p0[j]!.other, 0),
        xact: n1.xact - n0.xact,
        inserted: n1.ins - n0.ins,
        messages: m1 - m0
      })
      console.error(`image ${i + 1} ${k}: ${wall.toFixed(0)} ms`)
    }
  }
  console.log(
    `load ${load0.map((x) => x.toFixed(2)).join(" / ")} -> ${os.loadavg().map((x) => x.toFixed(2)).join(" / ")}; ${IMAGES} images${
      CHUNK === undefined ? "" : `, chunks of ${CHUNK}`
    }; medians per image (ms of wall and CPU)`
  )
  for (const k of kinds) {
    const rs = rows[k]!
    const keys = [...new Set(rs.flatMap((r) => Object.keys(r)))].filter((key) => median(rs.map((r) => r[key] ?? 0)) > 0)
    console.log(
      `${k.padEnd(9)} ${keys.map((key) => `${key} ${median(rs.map((r) => r[key] ?? 0)).toFixed(0)}`).join(", ")}  (wall ${
        rs.map((r) => r.wall.toFixed(0)).join(" ")
      })`
    )
  }
}).pipe(Effect.scoped)

NodeRuntime.runMain(program)
