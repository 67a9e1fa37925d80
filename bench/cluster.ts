/**
 * Measures the cluster backend: `npm run bench:cluster` (full, 5 rounds) or `node bench/cluster.ts --quick`.
 * The report goes to stdout and to docs/cluster-performance.md.
 *
 * Set-up: fresh databases on the Postgres server of `bash scripts/postgres.sh start` (or
 * `EFFECT_PARALLEL_PG_URL`), runner processes on loopback (`effect-parallel runner --timings
 * fast-failover`), all dropped and stopped at the end. Five sections, each round running every one of them
 * in turn (interleaved, so that a busy moment of the machine weighs on all of them alike):
 *
 *   costs     tiny tasks (`Double`, x * 2) on two runners of one worker each, persisted and volatile, against
 *             local threads: (a) round trip, each call awaited; (b) `map` of many; (c) single tasks all at once.
 *   floor     the same round trip on a bare Effect Cluster entity (`bench/cluster-bare.ts`: no pool, no
 *             worker thread, no codec) on the same Postgres: what (a) cannot go below.
 *   bytes     a 1200x1200 Mandelbrot image (500 iterations), one task per row, on one runner of 2 workers
 *             against local threads of 2 workers; rows as `Float32Array` (base64 on the wire), persisted and
 *             volatile, and as arrays of numbers (decimal JSON, how cluster tasks had to return them before).
 *   scaling   a CPU-bound batch (Mandelbrot rows, checksums only) on one runner of 1 worker pinned to CPU 0
 *             (`taskset`) against two runners of 1 worker pinned to CPUs 0 and 1: throughput.
 *   postgres  what a persisted message costs Postgres (transactions and rows written, bytes stored), and
 *             what idle runners cost it (lock refreshes, health checks): `pg_stat_database` deltas.
 *
 * Every result is checked; a wrong one stops the run.
 *
 * Options:
 *   --quick          1 round, smaller counts and images
 *   --rounds R       rounds (default: 5, quick: 1)
 *   --only a,b       run only these sections (costs, floor, bytes, scaling, postgres)
 *   --no-write       print the report without writing docs/cluster-performance.md
 *   --save FILE      also write the raw figures as JSON
 *   --before FILES   show saved runs (of an earlier commit; comma-separated files are merged) beside this one
 *   --from FILES     no measuring: the report from saved runs (comma-separated files are merged)
 *
 * Before/after: copy this file, `bench/cluster-bare.ts`, `bench/cluster-tasks.ts` and
 * `test/cluster/setup.ts` into a checkout of the earlier commit, and run it there and here in turn, each
 * with `--save FILE --no-write` (a few rounds each, several times: the machine's load then weighs on both
 * alike); then `--from after1.json,after2.json --before before1.json,before2.json` writes the report. A
 * section the earlier code cannot run (a `Float32Array` result on a cluster that had no JSON form for
 * it) is shown as n/a.
 */
import { NodeRuntime } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Effect, Exit, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import { computeRow, type RowSpec } from "../examples/mandelbrot.tasks.ts"
import { WorkerPool } from "../src/index.ts"
import { adminUrl, freshDatabase, postgresAvailable, startProcess, startRunner } from "../test/cluster/setup.ts"
import { bareClient } from "./cluster-bare.ts"
import { RowBytes, RowNumbers } from "./cluster-tasks.ts"
import { mandelbrotRow } from "./kernels.ts"
import { Double, MandelbrotRow } from "./tasks.ts"

// -------------------------------------------------------------------------------------------------------------
// options

const argv = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const k = argv.indexOf(name)
  return k >= 0 ? argv[k + 1] : undefined
}
const quick = argv.includes("--quick")
const rounds = flag("--rounds") !== undefined ? Number(flag("--rounds")) : quick ? 1 : 5
if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error(`--rounds must be a positive integer, got ${flag("--rounds")}`)
const sectionNames = ["costs", "floor", "bytes", "scaling", "postgres"] as const
type Section = (typeof sectionNames)[number]
const only = flag("--only")?.split(",") ?? [...sectionNames]
for (const s of only) if (!(sectionNames as ReadonlyArray<string>).includes(s)) throw new Error(`--only: unknown section ${s}`)
const runs = (s: Section) => only.includes(s)
const write = !argv.includes("--no-write")
const saveFile = flag("--save")
const beforeFile = flag("--before")
const fromFiles = flag("--from")
const sizes = quick
  ? { sequential: 50, map: 2_000, atOnce: 500, image: { width: 600, height: 600, maxIter: 300 }, scaling: { rows: 300, width: 400, maxIter: 1500 } }
  : { sequential: 200, map: 10_000, atOnce: 1_000, image: { width: 1200, height: 1200, maxIter: 500 }, scaling: { rows: 600, width: 600, maxIter: 20000 } }
const RUNNERS = 2
/** Messages in flight for the cluster clients of (b): about twice the worker threads of all runners. */
const CLIENT_SIZE = RUNNERS * 2
const THREADS = 2

if (!postgresAvailable) {
  console.error(`bench/cluster.ts: no Postgres at ${adminUrl}; start one with: bash scripts/postgres.sh start`)
  process.exit(1)
}

// -------------------------------------------------------------------------------------------------------------
// figures

type BackendId = "persisted" | "volatile" | "threads"
const backends: ReadonlyArray<BackendId> = ["persisted", "volatile", "threads"]
const labels: Record<BackendId, string> = {
  persisted: "cluster, persisted",
  volatile: "cluster, volatile",
  threads: `threads (${THREADS} workers)`
}

interface Sample {
  readonly readyMs: number
  readonly mapMessages: number | undefined
  readonly roundTripMs: number
  readonly mapMs: number
  readonly atOnceMs: number
}

/** Everything a run measured: what `--save` writes and `--before` reads. */
interface Figures {
  readonly commit: string
  readonly startedAt: string
  readonly load: { readonly start: ReadonlyArray<number>; readonly end: ReadonlyArray<number> }
  readonly seconds: number
  readonly rounds: number
  readonly server: { readonly version: string; readonly fsync: string }
  readonly runnerStarts: ReadonlyArray<number>
  readonly costs: Record<BackendId, Array<Sample>>
  /** Bare Effect Cluster round trips, ms per call. */
  readonly floor: { readonly persisted: Array<number>; readonly volatile: Array<number> }
  /** Milliseconds per image; null where the code under test could not run it. */
  readonly bytes: {
    readonly cluster: Array<number | null>
    /** The same with volatile delivery (absent from runs saved before it was measured). */
    readonly volatile?: Array<number | null>
    readonly numbers: Array<number>
    readonly threads: Array<number>
  }
  /** Milliseconds per batch on one runner, and on two; the 1-minute load average as each round began. */
  readonly scaling: { readonly one: Array<number>; readonly two: Array<number>; readonly load?: Array<number> }
  readonly postgres: {
    /** Per persisted message of (a): transactions committed, rows inserted, updated, deleted. */
    perMessage: { xact: number; inserted: number; updated: number; deleted: number } | undefined
    /** Bytes of a stored message and of its reply: a tiny task, and a Mandelbrot row (bytes). */
    stored: { tinyMessage: number; tinyReply: number; rowMessage: number; rowReply: number } | undefined
    /** Transactions per second of two idle runners (lock refreshes, health checks, storage polls). */
    idleXactPerSecond: number | undefined
  }
}

// -------------------------------------------------------------------------------------------------------------
// measurements

const xs = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)
const sinceMs = (t0: number) => performance.now() - t0

const check = (what: string, results: ReadonlyArray<number>, n: number): void => {
  if (results.length !== n) throw new Error(`${what}: ${results.length} results for ${n} tasks`)
  results.forEach((r, i) => {
    if (r !== 2 * i) throw new Error(`${what}: task ${i} returned ${r}, expected ${2 * i}`)
  })
}

const sequential = (n: number) =>
  Effect.gen(function*() {
    const results: Array<number> = []
    const t0 = performance.now()
    for (let i = 0; i < n; i++) results.push(yield* WorkerPool.run(Double, i))
    const ms = sinceMs(t0)
    check("round trip", results, n)
    return ms / n
  })

const mapped = (n: number) =>
  Effect.gen(function*() {
    const t0 = performance.now()
    const results = yield* WorkerPool.map(Double, xs(n))
    const ms = sinceMs(t0)
    check("map", results, n)
    return ms
  })

const atOnce = (n: number) =>
  Effect.gen(function*() {
    const t0 = performance.now()
    const results = yield* Effect.forEach(xs(n), (x) => WorkerPool.run(Double, x), { concurrency: "unbounded" })
    const ms = sinceMs(t0)
    check("at once", results, n)
    return ms
  })

const withDatabase = <A, E>(postgres: string, f: (sql: SqlClient) => Effect.Effect<A, E>) =>
  Effect.flatMap(SqlClient, f).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(postgres) })))

const storedMessages = (postgres: string) =>
  withDatabase(postgres, (sql) => sql<{ n: string }>`SELECT count(*) AS n FROM cluster_messages`).pipe(Effect.map((rows) => Number(rows[0]!.n)))

interface PgCounters {
  readonly xact: number
  readonly inserted: number
  readonly updated: number
  readonly deleted: number
}

/** The database's counters; Postgres publishes them about once a second, so a moment is waited first. */
const counters = (postgres: string) =>
  Effect.andThen(
    Effect.sleep("1200 millis"),
    withDatabase(postgres, (sql) =>
      sql<{ xact: string; inserted: string; updated: string; deleted: string }>`
        SELECT xact_commit AS xact, tup_inserted AS inserted, tup_updated AS updated, tup_deleted AS deleted
        FROM pg_stat_database WHERE datname = current_database()`)
  ).pipe(Effect.map(([r]): PgCounters => ({
    xact: Number(r!.xact),
    inserted: Number(r!.inserted),
    updated: Number(r!.updated),
    deleted: Number(r!.deleted)
  })))

const clusterLayer = (postgres: string, delivery: "persisted" | "volatile", size: number) =>
  WorkerPool.layerCluster({ postgres, delivery, size, timings: "fast-failover" })

const layerOf = (backend: BackendId, postgres: string) =>
  backend === "threads" ? WorkerPool.layerThreads({ size: THREADS }) : clusterLayer(postgres, backend, CLIENT_SIZE)

/** (a), (b), (c) on a fresh pool of one backend. */
const costs = (backend: BackendId, postgres: string): Effect.Effect<Sample, unknown> =>
  Effect.suspend(() => {
    const t0 = performance.now()
    return Effect.gen(function*() {
      yield* WorkerPool.awaitReady
      const readyMs = sinceMs(t0)
      yield* mapped(200)
      yield* atOnce(50)
      // warmed as the floor is, with as many calls of the same kind
      yield* sequential(sizes.sequential)
      const roundTripMs = yield* sequential(sizes.sequential)
      const before = backend === "persisted" ? yield* storedMessages(postgres) : 0
      const mapMs = yield* mapped(sizes.map)
      const mapMessages = backend === "persisted" ? (yield* storedMessages(postgres)) - before : undefined
      const atOnceMs = yield* atOnce(sizes.atOnce)
      return { readyMs, mapMessages, roundTripMs, mapMs, atOnceMs }
    }).pipe(Effect.provide(layerOf(backend, postgres)))
  })

type Bare = Effect.Success<ReturnType<typeof bareClient>>

/** Calls that warm the bare entity once, before the first round (`floor` warms it again in every round). */
const BARE_WARM_UP = quick ? { persisted: 50, volatile: 200 } : { persisted: 400, volatile: 2_000 }

/** The bare entity's round trip, each call awaited: ms per call. */
const floor = (bare: Bare, kind: "persisted" | "volatile") =>
  Effect.gen(function*() {
    const call = kind === "persisted" ? bare.persisted : bare.volatile
    // warmed as effect-parallel's round trip is, with as many calls of the same kind: its runner process
    // idled while the other sections ran
    for (let i = 0; i < sizes.sequential; i++) yield* call(i)
    const t0 = performance.now()
    for (let i = 0; i < sizes.sequential; i++) {
      const r = yield* call(i)
      if (r !== 2 * i) throw new Error(`floor: call ${i} returned ${r}`)
    }
    return sinceMs(t0) / sizes.sequential
  })

const specs: Array<RowSpec> = Array.from({ length: sizes.image.height }, (_, y) => ({ y, ...sizes.image }))
const serialImage = specs.map(computeRow)

const checkImage = (what: string, rows: ReadonlyArray<ArrayLike<number>>) => {
  rows.forEach((row, y) => {
    const expected = serialImage[y]!
    if (row.length !== expected.length) throw new Error(`${what}: row ${y} has ${row.length} pixels`)
    for (let x = 0; x < row.length; x++) {
      if (!Object.is(row[x], expected[x])) throw new Error(`${what}: row ${y} differs from the serial one at ${x}`)
    }
  })
}

/** One image on the pool in context: ms. `null` when the code under test cannot run the task. */
const image = <A extends ArrayLike<number>>(what: string, task: typeof RowBytes | typeof RowNumbers) =>
  Effect.gen(function*() {
    yield* WorkerPool.awaitReady
    // one row a message: every worker of the runner imports the task module before the clock starts
    const warm = yield* Effect.exit(WorkerPool.map(task as typeof RowBytes, specs.slice(0, 16), { chunkSize: 1 }))
    if (Exit.isFailure(warm)) {
      console.error(`  ${what}: cannot run here (${String(warm.cause).slice(0, 160)})`)
      return null
    }
    // then a whole image, untimed, on every side alike: a fresh runner's path for replies of hundreds of KB,
    // and a fresh pool's workers, are warm before the clock starts (with the 16 rows alone, the first round of a
    // run paid ~100 ms more on the cluster, whose runner lives across rounds, than in later rounds)
    checkImage(`${what} (warm-up)`, (yield* WorkerPool.map(task as typeof RowBytes, specs)) as unknown as ReadonlyArray<A>)
    const t0 = performance.now()
    const rows = (yield* WorkerPool.map(task as typeof RowBytes, specs)) as unknown as ReadonlyArray<A>
    const ms = sinceMs(t0)
    checkImage(what, rows)
    return ms
  })

const scalingSpecs = Array.from({ length: sizes.scaling.rows }, (_, y) => ({
  y,
  width: sizes.scaling.width,
  height: sizes.scaling.rows,
  maxIter: sizes.scaling.maxIter
}))
const scalingExpected = scalingSpecs.map((s) => mandelbrotRow(s.y, s.width, s.height, s.maxIter))

/** The CPU-bound batch on the cluster of `postgres`: ms. */
const scalingBatch = (postgres: string, workers: number) =>
  Effect.gen(function*() {
    yield* WorkerPool.awaitReady
    yield* WorkerPool.map(MandelbrotRow, scalingSpecs.slice(0, 8 * workers), { chunkSize: 1 })
    const t0 = performance.now()
    const sums = yield* WorkerPool.map(MandelbrotRow, scalingSpecs)
    const ms = sinceMs(t0)
    sums.forEach((s, y) => {
      if (s !== scalingExpected[y]) throw new Error(`scaling: row ${y} returned ${s}, expected ${scalingExpected[y]}`)
    })
    return ms
  }).pipe(Effect.provide(clusterLayer(postgres, "persisted", 2 * workers)))

// -------------------------------------------------------------------------------------------------------------
// the run

const bareScript = fileURLToPath(new URL("./cluster-bare.ts", import.meta.url))
const root = fileURLToPath(new URL("..", import.meta.url))

/** The commit measured (`BENCH_COMMIT` names it for a copy of the tree that is not a checkout). */
const commitOf = (): string => {
  if (process.env.BENCH_COMMIT !== undefined) return process.env.BENCH_COMMIT
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim()
  } catch {
    return "unknown"
  }
}

const program = Effect.gen(function*() {
  const startedAt = new Date()
  const loadStart = os.loadavg()
  const t0 = performance.now()
  const log = (line: string) => console.error(`bench/cluster.ts: ${line}`)

  const server = yield* withDatabase(adminUrl, (sql) =>
    Effect.all({
      version: sql<{ server_version: string }>`SHOW server_version`,
      fsync: sql<{ fsync: string }>`SHOW fsync`
    }))

  const figures: Figures = {
    commit: commitOf(),
    startedAt: startedAt.toISOString(),
    load: { start: loadStart, end: [] },
    seconds: 0,
    rounds,
    server: { version: server.version[0]?.server_version ?? "?", fsync: server.fsync[0]?.fsync ?? "?" },
    runnerStarts: [],
    costs: { persisted: [], volatile: [], threads: [] },
    floor: { persisted: [], volatile: [] },
    bytes: { cluster: [], volatile: [], numbers: [], threads: [] },
    scaling: { one: [], two: [], load: [] },
    postgres: { perMessage: undefined, stored: undefined, idleXactPerSecond: undefined }
  }

  // the clusters: costs (2 runners x 1), the bare floor, bytes (1 runner x 2), scaling (1 x 1 on CPU 0; 2 x 1 on CPUs 0, 1)
  const runnerStarts: Array<number> = []
  const timedRunner = (postgres: string, options: Parameters<typeof startRunner>[1]) =>
    Effect.gen(function*() {
      const t = performance.now()
      const runner = yield* startRunner(postgres, options)
      runnerStarts.push(sinceMs(t))
      return runner
    })
  const costsDb = runs("costs") || runs("postgres") ? yield* freshDatabase : ""
  if (costsDb !== "") for (let r = 0; r < RUNNERS; r++) yield* timedRunner(costsDb, { size: 1 })
  let bare: Bare | undefined
  if (runs("floor")) {
    const bareDb = yield* freshDatabase
    yield* startProcess([bareScript, "--postgres", bareDb, "--port", "{port}"], "bare runner ready")
    bare = yield* bareClient(bareDb)
    yield* bare.ready
    // Warmed as effect-parallel's runners are by the sections they serve before their first measured round
    // trip (about 1,700 messages of the costs section): with only its 200 calls a round, the bare entity's
    // round trip was still getting faster from round to round (volatile 0.47, 0.40, 0.34, 0.28 ms in rounds
    // 1 to 4 of a run), while effect-parallel's stayed level after round 1, which flattered the ratio.
    for (let i = 0; i < BARE_WARM_UP.persisted; i++) yield* bare.persisted(i)
    for (let i = 0; i < BARE_WARM_UP.volatile; i++) yield* bare.volatile(i)
  }
  const bytesDb = runs("bytes") ? yield* freshDatabase : ""
  if (bytesDb !== "") yield* timedRunner(bytesDb, { size: 2 })
  const oneDb = runs("scaling") ? yield* freshDatabase : ""
  const twoDb = runs("scaling") ? yield* freshDatabase : ""
  if (oneDb !== "") {
    yield* timedRunner(oneDb, { size: 1, cpus: "0" })
    yield* timedRunner(twoDb, { size: 1, cpus: "0" })
    yield* timedRunner(twoDb, { size: 1, cpus: "1" })
  }
  log(`${runnerStarts.length} runners ready; ${rounds} round(s) of ${only.join(", ")}`)

  // A round 0 of the costs and floor, measured and dropped, on both sides alike: in round 1 both
  // round trips were still slower than in later rounds (effect-parallel's volatile 0.69–0.72 ms against
  // 0.44–0.60 after it, its runners and client paths not yet warm).
  if (runs("costs")) {
    for (const backend of backends) {
      if (backend !== "threads" && bare !== undefined) yield* floor(bare, backend)
      yield* costs(backend, costsDb)
    }
    log("round 0 (warm-up, not recorded) done")
  }

  for (let round = 1; round <= rounds; round++) {
    if (runs("costs")) {
      for (const backend of backends) {
        if (backend !== "threads" && bare !== undefined) {
          const ms = yield* floor(bare, backend)
          figures.floor[backend].push(ms)
          log(`round ${round} bare Effect Cluster, ${backend}: ${num(ms)} ms/call`)
        }
        const sample = yield* costs(backend, costsDb)
        figures.costs[backend].push(sample)
        log(
          `round ${round} ${labels[backend].padEnd(20)} ready ${num(sample.readyMs)} ms, round trip ${num(sample.roundTripMs)} ms/call, ` +
            `map ${num(sample.mapMs)} ms, at once ${num(sample.atOnceMs)} ms`
        )
      }
    } else if (bare !== undefined) {
      for (const kind of ["persisted", "volatile"] as const) figures.floor[kind].push(yield* floor(bare, kind))
    }
    if (runs("bytes")) {
      const cluster = clusterLayer(bytesDb, "persisted", 4)
      const c = yield* image("cluster, Float32Array rows", RowBytes).pipe(Effect.provide(cluster))
      const n = yield* image("cluster, number-array rows", RowNumbers).pipe(Effect.provide(cluster))
      const v = yield* image("cluster, volatile, Float32Array rows", RowBytes).pipe(Effect.provide(clusterLayer(bytesDb, "volatile", 4)))
      const t = yield* image("threads", RowBytes).pipe(Effect.provide(WorkerPool.layerThreads({ size: 2 })))
      figures.bytes.cluster.push(c)
      figures.bytes.volatile!.push(v)
      figures.bytes.numbers.push(n!)
      figures.bytes.threads.push(t!)
      log(
        `round ${round} Mandelbrot: cluster ${c === null ? "n/a" : `${num(c)} ms`}, volatile ${v === null ? "n/a" : `${num(v)} ms`}, ` +
          `number arrays ${num(n!)} ms, threads ${num(t!)} ms`
      )
    }
    if (runs("scaling")) {
      // alternate which goes first, so that neither always meets the same moment of the machine
      const order = round % 2 === 1 ? (["one", "two"] as const) : (["two", "one"] as const)
      figures.scaling.load!.push(os.loadavg()[0]!)
      for (const which of order) {
        const ms = yield* scalingBatch(which === "one" ? oneDb : twoDb, which === "one" ? 1 : 2)
        figures.scaling[which].push(ms)
        log(`round ${round} scaling, ${which} runner(s): ${num(ms)} ms (${num(sizes.scaling.rows / (ms / 1000))} rows/s)`)
      }
    }
  }

  if (runs("postgres")) {
    // (a) again, persisted, counted: what one message costs Postgres, everything included (our client's own
    // health checks, the runners' lock refreshes, during the same seconds)
    const n = 200
    const c0 = yield* counters(costsDb)
    const t = performance.now()
    yield* Effect.gen(function*() {
      yield* WorkerPool.awaitReady
      for (let i = 0; i < n; i++) yield* WorkerPool.run(Double, i)
    }).pipe(Effect.provide(clusterLayer(costsDb, "persisted", CLIENT_SIZE)))
    const seconds = sinceMs(t) / 1000
    const c1 = yield* counters(costsDb)
    // two idle runners, for as long: what they cost when nothing runs
    const i0 = yield* counters(costsDb)
    yield* Effect.sleep("5 seconds")
    const i1 = yield* counters(costsDb)
    const idleXactPerSecond = (i1.xact - i0.xact) / (5 + 1.2)
    const background = idleXactPerSecond * (seconds + 1.2)
    figures.postgres.idleXactPerSecond = idleXactPerSecond
    figures.postgres.perMessage = {
      xact: (c1.xact - c0.xact - background) / n,
      inserted: (c1.inserted - c0.inserted) / n,
      updated: (c1.updated - c0.updated - ((i1.updated - i0.updated) / (5 + 1.2)) * (seconds + 1.2)) / n,
      deleted: (c1.deleted - c0.deleted) / n
    }
    const rowSizes = runs("bytes")
      ? yield* withDatabase(bytesDb, (sql) =>
        sql<{ m: string; r: string }>`
          SELECT sum(length(m.payload))::float / sum(json_array_length((m.payload::json)->'items')) AS m,
                 sum(length(r.payload))::float / sum(json_array_length((m.payload::json)->'items')) AS r
          FROM cluster_messages m JOIN cluster_replies r ON r.request_id = m.id
          WHERE m.tag = 'Run' AND m.payload LIKE '%"RowBytes"%'`)
      : [{ m: "0", r: "0" }]
    const tiny = yield* withDatabase(costsDb, (sql) =>
      sql<{ m: string; r: string }>`
        SELECT avg(length(m.payload)) AS m, avg(length(r.payload)) AS r
        FROM cluster_messages m JOIN cluster_replies r ON r.request_id = m.id WHERE m.tag = 'Run'`)
    figures.postgres.stored = {
      tinyMessage: Number(tiny[0]!.m),
      tinyReply: Number(tiny[0]!.r),
      rowMessage: Number(rowSizes[0]!.m ?? 0),
      rowReply: Number(rowSizes[0]!.r ?? 0)
    }
    log(`postgres: ${JSON.stringify(figures.postgres)}`)
  }
  return { ...figures, load: { start: loadStart, end: os.loadavg() }, seconds: sinceMs(t0) / 1000, runnerStarts } satisfies Figures
}).pipe(Effect.scoped) // stops the runners, then drops the databases

// -------------------------------------------------------------------------------------------------------------
// statistics and formatting

interface Stat {
  readonly median: number
  readonly min: number
  readonly max: number
}

const stat = (values: ReadonlyArray<number>): Stat | undefined => {
  if (values.length === 0) return undefined
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return { median: s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2, min: s[0]!, max: s[s.length - 1]! }
}

/** Three significant digits, thousands separated. */
const num = (x: number): string => {
  if (x >= 1000) return Math.round(x).toLocaleString("en-US")
  if (x >= 100) return x.toFixed(0)
  if (x >= 10) return x.toFixed(1)
  if (x >= 1) return x.toFixed(2)
  return x.toPrecision(2)
}

const cell = (s: Stat | undefined): string =>
  s === undefined ? "n/a" : s.min === s.max ? `**${num(s.median)}**` : `**${num(s.median)}** (${num(s.min)}–${num(s.max)})`

const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined ? "n/a" : `${(a / b).toFixed(a / b >= 10 ? 0 : 2)}×`

const load = (l: ReadonlyArray<number>) => l.map((x) => x.toFixed(2)).join(" / ")

/**
 * Several saved runs as one: their samples together (runs of one commit made at different moments, to
 * interleave them with runs of another), the load of each, the first run's start.
 */
/** The median of the ratios of two series measured round by round (`n/a` without a pair). */
const roundRatios = (xs: ReadonlyArray<number | null> | undefined, ys: ReadonlyArray<number | null>): string => {
  const rs: Array<number> = []
  ;(xs ?? []).forEach((x, k) => {
    const y = ys[k]
    if (x !== null && y !== null && y !== undefined && y > 0) rs.push(x / y)
  })
  return rs.length === 0 ? "n/a" : `${stat(rs)!.median.toFixed(2)}×`
}

const merge = (runs: ReadonlyArray<Figures>): Figures => {
  const all = <A>(f: (r: Figures) => ReadonlyArray<A>): Array<A> => runs.flatMap(f)
  const first = runs[0]!
  return {
    ...first,
    // runs of different commits may be merged for different sections: each one is named
    commit: [...new Set(runs.map((r) => r.commit))].join(", "),
    load: { start: first.load.start, end: runs[runs.length - 1]!.load.end },
    seconds: runs.reduce((a, r) => a + r.seconds, 0),
    rounds: runs.reduce((a, r) => a + r.rounds, 0),
    runnerStarts: all((r) => r.runnerStarts),
    costs: { persisted: all((r) => r.costs.persisted), volatile: all((r) => r.costs.volatile), threads: all((r) => r.costs.threads) },
    floor: { persisted: all((r) => r.floor.persisted), volatile: all((r) => r.floor.volatile) },
    bytes: {
      cluster: all((r) => r.bytes.cluster),
      volatile: all((r) => r.bytes.volatile ?? []),
      numbers: all((r) => r.bytes.numbers),
      threads: all((r) => r.bytes.threads)
    },
    scaling: {
      one: all((r) => r.scaling.one),
      two: all((r) => r.scaling.two),
      load: all((r) => r.scaling.load ?? r.scaling.one.map(() => Number.NaN))
    },
    // the last run that measured it (a run of the postgres section alone, when given last, has no stored rows)
    postgres: {
      ...(runs.findLast((r) => r.postgres.perMessage !== undefined)?.postgres ?? first.postgres),
      stored: runs.findLast((r) => (r.postgres.stored?.rowReply ?? 0) > 0)?.postgres.stored ??
        runs.findLast((r) => r.postgres.stored !== undefined)?.postgres.stored
    }
  }
}

const readRuns = (files: string): Figures => merge(files.split(",").map((file) => JSON.parse(readFileSync(file, "utf8")) as Figures))

const report = (f: Figures, before: Figures | undefined, runs: number): string => {
  const seconds = f.seconds
  const version = (pkg: string) => JSON.parse(readFileSync(`${root}node_modules/${pkg}/package.json`, "utf8")).version as string
  const own = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { version: string }
  const n = (x: number) => x.toLocaleString("en-US")
  const of = (fig: Figures, backend: BackendId, g: (s: Sample) => number) => stat(fig.costs[backend].map(g))
  const perSecond = (count: number) => (ms: number) => count / (ms / 1000)
  const command = `node bench/cluster.ts${argv.length === 0 ? "" : ` ${argv.join(" ")}`}`
  const header = `| | ${backends.map((b) => labels[b]).join(" | ")} |\n| --- | ${backends.map(() => "---:").join(" | ")} |`
  const row = (label: string, g: (b: BackendId) => Stat | undefined) => `| ${label} | ${backends.map((b) => cell(g(b))).join(" | ")} |`
  const median = (xs: ReadonlyArray<number | null>) => stat(xs.filter((x): x is number => x !== null))?.median
  const lines: Array<string> = [
    `<!-- Generated by \`node bench/cluster.ts\` (bench/cluster.ts): edit and run the script, not this file. -->`,
    "# Cluster performance",
    "",
    `Generated by \`${command}\` on ${f.startedAt.slice(0, 16).replace("T", " ")} UTC.`,
    "",
    `- Machine: ${os.type()} ${os.release()} ${os.arch()}, ${os.cpus()[0]?.model.trim() ?? "unknown CPU"}, ` +
    `${os.cpus().length} logical CPUs (\`os.availableParallelism()\` = ${os.availableParallelism()}), shared with other work`,
    `- Node ${process.version}; load average (1 / 5 / 15 min) ${load(f.load.start)} at the start, ${load(f.load.end)} at the end`,
    `- PostgreSQL ${f.server.version} on loopback (fsync ${f.server.fsync}), a fresh database per cluster`,
    `- Runner processes on loopback with \`--timings fast-failover\`, started in ${num(stat(f.runnerStarts)?.median ?? 0)} ms (median of ${f.runnerStarts.length})`,
    `- ${f.rounds} round${f.rounds === 1 ? "" : "s"}${runs > 1 ? ` in ${runs} runs (interleaved with the runs of "before")` : ""}, each running every section in turn; ` +
    `${seconds.toFixed(0)} s in all; effect-parallel ` +
    `${own.version} (${f.commit}), effect ${version("effect")}, @effect/sql-pg ${version("@effect/sql-pg")}`,
    ...(before === undefined ? [] : [
      `- **Before**: the same benchmark on commit${before.commit.includes(",") ? "s" : ""} ${before.commit} (${before.startedAt.slice(0, 16).replace("T", " ")} UTC, load ` +
      `${load(before.load.start)} at its start), from a file saved with \`--save\``
    ]),
    "",
    "Cells show the median and the range (min–max) over the rounds."
  ]

  if (f.costs.persisted.length > 0) {
    const rt = (fig: Figures, b: BackendId) => of(fig, b, (s) => s.roundTripMs)
    const counts = [...new Set(f.costs.persisted.map((s) => s.mapMessages))].join(" or ")
    lines.push(
      "",
      "## Costs per task",
      "",
      `Two runners of one worker each; a cluster client with persisted delivery, one with volatile delivery, and`,
      `local \`WorkerPool.layerThreads({ size: ${THREADS} })\`, each opened fresh, awaited, warmed up, measured and closed. The`,
      "task is `Double` (x * 2): the cost measured is the message, not the work.",
      "",
      `- **(a) round trip**: ${n(sizes.sequential)} calls of \`WorkerPool.run\`, each awaited before the next, after as many to warm up: ms per call.`,
      `- **(b) map**: \`WorkerPool.map(Double, xs)\` over ${n(sizes.map)} numbers, in chunks as the backend cuts them (the cluster: ${counts} messages, counted in storage): tasks per second.`,
      `- **(c) at once**: ${n(sizes.atOnce)} single \`WorkerPool.run\` calls submitted together, one message each: tasks per second.`,
      "",
      header,
      row("(a) round trip, ms per call (lower is better)", (b) => rt(f, b)),
      row(`(b) map of ${n(sizes.map)}, tasks/s (higher is better)`, (b) => of(f, b, (s) => perSecond(sizes.map)(s.mapMs))),
      row(`(c) ${n(sizes.atOnce)} at once, tasks/s (higher is better)`, (b) => of(f, b, (s) => perSecond(sizes.atOnce)(s.atOnceMs))),
      row("pool ready (layer built, `awaitReady`), ms", (b) => of(f, b, (s) => s.readyMs)),
      ...(before === undefined || before.costs.persisted.length === 0 ? [] : [
        row("**before**: (a) round trip, ms per call", (b) => rt(before, b)),
        row(`**before**: (b) map of ${n(sizes.map)}, tasks/s`, (b) => of(before, b, (s) => perSecond(sizes.map)(s.mapMs))),
        row(`**before**: (c) ${n(sizes.atOnce)} at once, tasks/s`, (b) => of(before, b, (s) => perSecond(sizes.atOnce)(s.atOnceMs)))
      ])
    )
    if (f.floor.persisted.length > 0) {
      const bareP = stat(f.floor.persisted)
      const bareV = stat(f.floor.volatile)
      const oursP = rt(f, "persisted")
      const oursV = rt(f, "volatile")
      lines.push(
        "",
        "## The floor: a bare Effect Cluster entity",
        "",
        "The same round trip on a bare entity (`bench/cluster-bare.ts`): one persisted and one volatile RPC whose",
        "handler doubles a number on the runner's main thread: no pool, no worker thread, no codec, the same",
        "Postgres, transport and timings, its own runner process and database. Measured in each round just",
        "before effect-parallel's round trip of the same kind. Calls awaited one after the other go to one runner",
        "process on both sides: effect-parallel's client sends the next message to the runner used last while",
        "each has room (before that rule, it alternated its two runners, each call finding a colder process).",
        "Both sides are warmed alike: each measured round trip follows as many unmeasured calls of its kind, a",
        "round 0 of both is run and dropped, and the bare entity first gets 2,000 volatile and 400 persisted calls",
        "(about what effect-parallel's runners serve in the costs section of a round).",
        "",
        "| round trip, ms per call | bare Effect Cluster | effect-parallel | ratio | before | ratio before |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        `| persisted | ${cell(bareP)} | ${cell(oursP)} | **${ratio(oursP?.median, bareP?.median)}** | ${cell(before && rt(before, "persisted"))} | ${
          before === undefined ? "n/a" : ratio(rt(before, "persisted")?.median, stat(before.floor.persisted)?.median)
        } |`,
        `| volatile | ${cell(bareV)} | ${cell(oursV)} | **${ratio(oursV?.median, bareV?.median)}** | ${cell(before && rt(before, "volatile"))} | ${
          before === undefined ? "n/a" : ratio(rt(before, "volatile")?.median, stat(before.floor.volatile)?.median)
        } |`,
        "",
        "What effect-parallel adds to the bare round trip: the task's codec and the front (retries, spans, counts)",
        "in the client, the choice of a runner with a free worker, and on the runner the hop to a worker thread and",
        "back (the entity's handler must not run tasks on the runner's main thread, which refreshes its shard locks).",
        "`bench/cluster-trip.ts` takes the volatile round trip apart (docs/performance-notes.md, issue 18)."
      )
    }
  }

  if (f.bytes.threads.length > 0) {
    const c = median(f.bytes.cluster)
    const t = median(f.bytes.threads)
    const nm = median(f.bytes.numbers)
    const vo = median(f.bytes.volatile ?? [])
    const numbersOf = (xs: ReadonlyArray<number | null> | undefined) => (xs ?? []).filter((x): x is number => x !== null)
    const { height, maxIter, width } = sizes.image
    lines.push(
      "",
      "## Bytes as bytes: Mandelbrot on the cluster",
      "",
      `A ${width}×${height} image, ${maxIter} iterations, one task per row, through \`WorkerPool.map\`: on one runner of 2`,
      "workers (a client of `size: 4`, persisted and volatile delivery) against local threads of 2 workers. Rows",
      "come back as `Float32Array`s, whose bytes cross from runner to client as bytes beside the reply's JSON",
      "(SchemaBinary) and are stored in Postgres as base64; and as arrays of numbers",
      "(decimal JSON, persisted), which is how a cluster task had to return them while",
      "`Schema.instanceOf(Float32Array)` had no JSON form. Every image is checked against the serial one, pixel by",
      "pixel. Each side is warmed alike before its timed image, in every round, on the same pool: 16 rows one a",
      "message (every worker imports the task module), then a whole image, untimed.",
      "",
      "| ms per image | threads (2 workers) | cluster, `Float32Array` rows, persisted | the same, volatile | cluster, number-array rows |",
      "| --- | ---: | ---: | ---: | ---: |",
      `| now | ${cell(stat(f.bytes.threads))} | ${cell(stat(numbersOf(f.bytes.cluster)))} | ${cell(stat(numbersOf(f.bytes.volatile)))} | ${
        cell(stat(f.bytes.numbers))
      } |`,
      ...(before === undefined || before.bytes.threads.length === 0 ? [] : [
        `| before | ${cell(stat(before.bytes.threads))} | ${cell(stat(numbersOf(before.bytes.cluster)))} | ${
          cell(stat(numbersOf(before.bytes.volatile)))
        } | ${cell(stat(before.bytes.numbers))} |`
      ]),
      "",
      `The cluster with bytes takes **${ratio(c, t)}** the time of local threads persisted, **${ratio(vo, t)}** volatile ` +
      `(number arrays: ${ratio(nm, t)}${
        before === undefined ? "" : `; before, number arrays: ${ratio(median(before.bytes.numbers), median(before.bytes.threads))}`
      }).`,
      // each round runs its images back to back: a round's own ratio is less exposed to the machine's load
      // changing between rounds than the ratio of medians
      `The median of the rounds' own ratios (each round's images back to back): ${roundRatios(f.bytes.cluster, f.bytes.threads)} persisted, ` +
        `${roundRatios(f.bytes.volatile, f.bytes.threads)} volatile${
          before === undefined || before.bytes.threads.length === 0
            ? ""
            : ` (before: ${roundRatios(before.bytes.cluster, before.bytes.threads)}, ${roundRatios(before.bytes.volatile, before.bytes.threads)})`
        }.`
    )
    if (f.postgres.stored !== undefined && f.postgres.stored.rowReply > 0) {
      lines.push(
        `A row's share of a stored reply is ${num(f.postgres.stored.rowReply / 1024)} KiB of JSON text for ${width} pixels (base64 of ${n(width * 4)} bytes is ${
          num(Math.ceil((width * 4) / 3) * 4 / 1024)
        } KiB).`
      )
    }
  }

  if (f.scaling.one.length > 0) {
    const one = median(f.scaling.one)
    const two = median(f.scaling.two)
    const { maxIter, rows, width } = sizes.scaling
    const per = (ms: number) => rows / (ms / 1000)
    lines.push(
      "",
      "## Scaling: one runner, then two, on separate cores",
      "",
      `A CPU-bound batch: ${n(rows)} Mandelbrot rows of ${n(width)} pixels, ${n(maxIter)} iterations (each task returns the`,
      "row's checksum: the work is the CPU, not the message), persisted delivery. One runner of 1 worker pinned",
      "to CPU 0 (`taskset -c 0`), against two runners of 1 worker pinned to CPUs 0 and 1, each with a client of",
      "`size` twice its workers. The client and Postgres are not pinned: they share both cores with the",
      "runners and with the machine's other work. The two configurations alternate within each round.",
      "",
      "| | one runner (CPU 0) | two runners (CPUs 0, 1) | speed-up |",
      "| --- | ---: | ---: | ---: |",
      `| ms per batch | ${cell(stat(f.scaling.one))} | ${cell(stat(f.scaling.two))} | |`,
      `| rows per second | ${cell(stat(f.scaling.one.map(per)))} | ${cell(stat(f.scaling.two.map(per)))} | **${ratio(one, two)}** |`,
      ...(before === undefined || before.scaling.one.length === 0 ? [] : [
        `| before: rows per second | ${cell(stat(before.scaling.one.map(per)))} | ${cell(stat(before.scaling.two.map(per)))} | ${
          ratio(median(before.scaling.one), median(before.scaling.two))
        } |`
      ]),
      "",
      "Round by round (the two configurations back to back), with the machine's 1-minute load average as the",
      "round began. Pinned runners cannot move away from the other work: one runner keeps a core to itself",
      "(the other work moves to the other core), but two runners must share both cores with it, so the",
      "speed-up shows on a quiet machine and shrinks as the load passes 2 on these 2 cores.",
      "",
      "| round | load | one runner, ms | two runners, ms | speed-up |",
      "| ---: | ---: | ---: | ---: | ---: |",
      ...f.scaling.one.map((o, k) => {
        const load = f.scaling.load?.[k]
        return `| ${k + 1} | ${load === undefined || Number.isNaN(load) ? "?" : load.toFixed(2)} | ${num(o)} | ${num(f.scaling.two[k]!)} | ${
          ratio(o, f.scaling.two[k]!)
        } |`
      }),
      ...(() => {
        const quiet = f.scaling.one.flatMap((o, k) => (f.scaling.load?.[k] ?? Infinity) < 2 ? [o / f.scaling.two[k]!] : [])
        return quiet.length === 0 ? [] : [
          "",
          `Rounds begun with a load under 2: median speed-up **${stat(quiet)!.median.toFixed(2)}×** over ${quiet.length} round${quiet.length === 1 ? "" : "s"}.`
        ]
      })()
    )
  }

  const pg = f.postgres
  if (pg.perMessage !== undefined) {
    const m = pg.perMessage
    const s = pg.stored
    lines.push(
      "",
      "## What a message costs Postgres",
      "",
      "From `pg_stat_database` around 200 persisted round trips of (a), less what two idle runners and a client",
      "cost Postgres in as many seconds without messages (measured right after):",
      "",
      `- per persisted message: **${m.xact.toFixed(1)} transactions**, ${m.inserted.toFixed(1)} rows inserted, ${m.updated.toFixed(1)} updated, ${
        m.deleted.toFixed(1)
      } deleted;`,
      ...(s === undefined ? [] : [
        `- stored text: ${n(Math.round(s.tinyMessage))} bytes of message and ${n(Math.round(s.tinyReply))} of reply for a tiny task${
          s.rowReply > 0
            ? `; per Mandelbrot row (${sizes.image.width} pixels, sent in chunks of rows), ${n(Math.round(s.rowMessage))} bytes of message and ${
              n(Math.round(s.rowReply))
            } of reply`
            : ""
        };`
      ]),
      `- idle: **${pg.idleXactPerSecond!.toFixed(1)} transactions per second** for two runners and one client with \`fast-failover\` timings ` +
      "(shard-lock refreshes, health checks, storage polls).",
      "",
      "docs/cluster.md (Limits) works out what these mean for 10 and 100 hosts."
    )
  }
  lines.push(
    "",
    "## Reading it",
    "",
    "- Loopback only: no network latency, with the runners, Postgres and the client sharing the same two cores,",
    "  and other work running on the machine (see the load). On real hosts add the network's round trips.",
    ...(f.server.fsync === "off"
      ? ["- This Postgres has fsync off: on one with fsync on, persisted messages cost a disk flush per transaction more."]
      : []),
    "- The warm-ups changed in issue 18's fifth sitting (a round 0 of the costs and floor, dropped; the bare entity",
    "  warmed with 2,000 volatile and 400 persisted calls first; a whole untimed image before each timed one).",
    "  Runs saved before that (a \"before\" of an earlier commit may be one) measured the bare entity and local",
    "  threads colder than the cluster, which flattered the cluster's ratios (docs/performance-notes.md).",
    ""
  )
  return lines.join("\n")
}

const main = Effect.gen(function*() {
  const before = beforeFile === undefined ? undefined : readRuns(beforeFile)
  let figures: Figures
  let runs = 1
  if (fromFiles !== undefined) {
    figures = readRuns(fromFiles)
    runs = fromFiles.split(",").length
  } else {
    figures = yield* program
    if (saveFile !== undefined) writeFileSync(saveFile, JSON.stringify(figures, null, 2))
  }
  const text = report(figures, before, runs)
  console.log(text)
  if (write) {
    const file = fileURLToPath(new URL("../docs/cluster-performance.md", import.meta.url))
    writeFileSync(file, text)
    console.error(`bench/cluster.ts: wrote ${file}`)
  }
})

// runMain: Ctrl+C interrupts the run, and the finalizers still stop the runners and drop the databases
NodeRuntime.runMain(main)
