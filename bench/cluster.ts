/**
 * Measures what a task costs on the cluster backend, against local worker threads: `npm run bench:cluster`
 * (full, 5 rounds) or `node bench/cluster.ts --quick` (1 round, smaller counts).
 *
 * Set-up: a fresh database on the Postgres server of `bash scripts/postgres.sh start` (or
 * `EFFECT_PARALLEL_PG_URL`), two runner processes on loopback (`effect-parallel runner --size 1 --timings
 * fast-failover`), dropped and stopped at the end. Each round opens, in turn, a cluster client with
 * persisted delivery, one with volatile delivery, and a local `WorkerPool.layerThreads({ size: 2 })`; each
 * pool is awaited ready and warmed up, then measured:
 *
 *   (a) round trip: tiny tasks (`Double`, x * 2) run one after the other, each awaited: ms per call;
 *   (b) throughput of `WorkerPool.map` over tiny tasks: tasks per second;
 *   (c) throughput of single tasks all submitted at once (`Effect.forEach(..., { concurrency: "unbounded" })`).
 *
 * Every result is checked; a wrong one stops the run. The report goes to stdout and to
 * docs/cluster-performance.md.
 *
 * Options:
 *   --quick       1 round, 50 / 2,000 / 500 tasks (instead of 5 rounds, 200 / 10,000 / 1,000)
 *   --rounds R    rounds (default: 5, quick: 1)
 *   --no-write    print the report without writing docs/cluster-performance.md
 */
import { NodeRuntime } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import { WorkerPool } from "../src/index.ts"
import { adminUrl, freshDatabase, postgresAvailable, startRunner } from "../test/cluster/setup.ts"
import { Double } from "./tasks.ts"

// -------------------------------------------------------------------------------------------------------------
// options

const argv = process.argv.slice(2)
const quick = argv.includes("--quick")
const roundsArg = argv.indexOf("--rounds")
const rounds = roundsArg >= 0 ? Number(argv[roundsArg + 1]) : quick ? 1 : 5
if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error(`--rounds must be a positive integer, got ${argv[roundsArg + 1]}`)
const write = !argv.includes("--no-write")
const sizes = quick ? { sequential: 50, map: 2_000, atOnce: 500 } : { sequential: 200, map: 10_000, atOnce: 1_000 }
const RUNNERS = 2
/** Messages in flight for the cluster clients: about twice the worker threads of all runners. */
const CLIENT_SIZE = RUNNERS * 2
const THREADS = 2

if (!postgresAvailable) {
  console.error(`bench/cluster.ts: no Postgres at ${adminUrl}; start one with: bash scripts/postgres.sh start`)
  process.exit(1)
}

// -------------------------------------------------------------------------------------------------------------
// the measurements

type BackendId = "persisted" | "volatile" | "threads"
const backends: ReadonlyArray<BackendId> = ["persisted", "volatile", "threads"]
const labels: Record<BackendId, string> = {
  persisted: "cluster, persisted",
  volatile: "cluster, volatile",
  threads: `threads (${THREADS} workers)`
}

interface Sample {
  /** From the layer's build until `awaitReady` (threads started, or cluster runners answering). */
  readonly readyMs: number
  /** Messages (chunks) stored for (b), counted in Postgres: persisted delivery only. */
  readonly mapMessages: number | undefined
  /** (a) ms per call. */
  readonly roundTripMs: number
  /** (b) and (c): elapsed ms. */
  readonly mapMs: number
  readonly atOnceMs: number
}

const xs = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

const check = (what: string, results: ReadonlyArray<number>, n: number): void => {
  if (results.length !== n) throw new Error(`${what}: ${results.length} results for ${n} tasks`)
  results.forEach((r, i) => {
    if (r !== 2 * i) throw new Error(`${what}: task ${i} returned ${r}, expected ${2 * i}`)
  })
}

const sinceMs = (t0: number) => performance.now() - t0

/** (a): each call awaited before the next one starts. */
const sequential = (n: number) =>
  Effect.gen(function*() {
    const results: Array<number> = []
    const t0 = performance.now()
    for (let i = 0; i < n; i++) results.push(yield* WorkerPool.run(Double, i))
    const ms = sinceMs(t0)
    check("round trip", results, n)
    return ms / n
  })

/** (b): one batch through `WorkerPool.map` (chunks as the backend plans them). */
const mapped = (n: number) =>
  Effect.gen(function*() {
    const t0 = performance.now()
    const results = yield* WorkerPool.map(Double, xs(n))
    const ms = sinceMs(t0)
    check("map", results, n)
    return ms
  })

/** (c): n single tasks, all submitted at once. */
const atOnce = (n: number) =>
  Effect.gen(function*() {
    const t0 = performance.now()
    const results = yield* Effect.forEach(xs(n), (x) => WorkerPool.run(Double, x), { concurrency: "unbounded" })
    const ms = sinceMs(t0)
    check("at once", results, n)
    return ms
  })

/** Persisted messages in the cluster's storage: what (b) sends, counted without trusting the client's rule. */
const storedMessages = (postgres: string) =>
  Effect.flatMap(SqlClient, (sql) => sql<{ n: string }>`SELECT count(*) AS n FROM cluster_messages`).pipe(
    Effect.map((rows) => Number(rows[0]!.n)),
    Effect.provide(PgClient.layer({ url: Redacted.make(postgres) }))
  )

const layerOf = (backend: BackendId, postgres: string) =>
  backend === "threads"
    ? WorkerPool.layerThreads({ size: THREADS })
    : WorkerPool.layerCluster({ postgres, delivery: backend, size: CLIENT_SIZE, timings: "fast-failover" })

/** Opens a fresh pool of one backend, awaits it, warms it up and measures (a), (b), (c); closes it. */
const measure = (backend: BackendId, postgres: string): Effect.Effect<Sample, unknown> =>
  Effect.suspend(() => {
    const t0 = performance.now()
    return Effect.gen(function*() {
      yield* WorkerPool.awaitReady
      const readyMs = sinceMs(t0)
      // warm-up: the task module imported by every worker, connections and codecs warm
      yield* sequential(10)
      yield* mapped(200)
      yield* atOnce(50)
      const roundTripMs = yield* sequential(sizes.sequential)
      const before = backend === "persisted" ? yield* storedMessages(postgres) : 0
      const mapMs = yield* mapped(sizes.map)
      const mapMessages = backend === "persisted" ? (yield* storedMessages(postgres)) - before : undefined
      const atOnceMs = yield* atOnce(sizes.atOnce)
      return { readyMs, mapMessages, roundTripMs, mapMs, atOnceMs }
    }).pipe(Effect.provide(layerOf(backend, postgres)))
  })

// -------------------------------------------------------------------------------------------------------------
// statistics and formatting

interface Stat {
  readonly median: number
  readonly min: number
  readonly max: number
}

const stat = (values: ReadonlyArray<number>): Stat => {
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

const cell = (s: Stat): string => (rounds === 1 ? `**${num(s.median)}**` : `**${num(s.median)}** (${num(s.min)}–${num(s.max)})`)

const ratio = (a: number, b: number): string => `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}×`

// -------------------------------------------------------------------------------------------------------------
// the run

const program = Effect.gen(function*() {
  const startedAt = new Date()
  const loadStart = os.loadavg()
  const t0 = performance.now()

  const server = yield* Effect.flatMap(SqlClient, (sql) =>
    Effect.all({
      version: sql<{ server_version: string }>`SHOW server_version`,
      fsync: sql<{ fsync: string }>`SHOW fsync`
    })).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(adminUrl) })))

  const postgres = yield* freshDatabase
  const runnerStarts: Array<number> = []
  for (let r = 0; r < RUNNERS; r++) {
    const t = performance.now()
    yield* startRunner(postgres, { size: 1, timings: "fast-failover" })
    runnerStarts.push(sinceMs(t))
  }
  console.error(`bench/cluster.ts: ${RUNNERS} runners ready (${runnerStarts.map((ms) => `${num(ms)} ms`).join(", ")}); ${rounds} round(s)`)

  const samples: Record<BackendId, Array<Sample>> = { persisted: [], volatile: [], threads: [] }
  for (let round = 1; round <= rounds; round++) {
    for (const backend of backends) {
      const sample = yield* measure(backend, postgres)
      samples[backend].push(sample)
      console.error(
        `  round ${round} ${labels[backend].padEnd(20)} ready ${num(sample.readyMs)} ms, round trip ${num(sample.roundTripMs)} ms/call, ` +
          `map ${num(sample.mapMs)} ms, at once ${num(sample.atOnceMs)} ms`
      )
    }
  }
  return { startedAt, loadStart, t0, server, runnerStarts, samples }
}).pipe(Effect.scoped) // stops the runners, then drops the database

const report = (r: Effect.Success<typeof program>): string => {
  const seconds = sinceMs(r.t0) / 1000
  const loadEnd = os.loadavg()
  const of = (backend: BackendId, f: (s: Sample) => number) => stat(r.samples[backend].map(f))
  const perSecond = (n: number) => (s: Sample, ms: number) => n / (ms / 1000)
  const rt = (b: BackendId) => of(b, (s) => s.roundTripMs)
  const map = (b: BackendId) => of(b, (s) => perSecond(sizes.map)(s, s.mapMs))
  const once = (b: BackendId) => of(b, (s) => perSecond(sizes.atOnce)(s, s.atOnceMs))
  const mapMs = (b: BackendId) => of(b, (s) => s.mapMs)
  const onceMs = (b: BackendId) => of(b, (s) => s.atOnceMs)
  const ready = (b: BackendId) => of(b, (s) => s.readyMs)
  const counts = [...new Set(r.samples.persisted.map((s) => s.mapMessages))]
  const messages = counts.join(" or ")
  const row = (label: string, f: (b: BackendId) => Stat) => `| ${label} | ${backends.map((b) => cell(f(b))).join(" | ")} |`
  const root = fileURLToPath(new URL("..", import.meta.url))
  const version = (pkg: string) => JSON.parse(readFileSync(`${root}node_modules/${pkg}/package.json`, "utf8")).version as string
  const own = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { version: string }
  let commit = "unknown"
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim()
  } catch {
    // not a checkout
  }
  const load = (l: ReadonlyArray<number>) => l.map((x) => x.toFixed(2)).join(" / ")
  const command = `node bench/cluster.ts${quick ? " --quick" : ""}${argv.includes("--rounds") ? ` --rounds ${rounds}` : ""}`
  const n = (x: number) => x.toLocaleString("en-US")
  const header = `| | ${backends.map((b) => labels[b]).join(" | ")} |\n| --- | ${backends.map(() => "---:").join(" | ")} |`
  const lines = [
    `<!-- Generated by \`node bench/cluster.ts\` (bench/cluster.ts): edit and run the script, not this file. -->`,
    "# Cluster performance",
    "",
    `Generated by \`${command}\` on ${r.startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC.`,
    "",
    `- Machine: ${os.type()} ${os.release()} ${os.arch()}, ${os.cpus()[0]?.model.trim() ?? "unknown CPU"}, ` +
    `${os.cpus().length} logical CPUs (\`os.availableParallelism()\` = ${os.availableParallelism()})`,
    `- Node ${process.version}; load average (1 / 5 / 15 min) ${load(r.loadStart)} at the start, ${load(loadEnd)} at the end`,
    `- PostgreSQL ${r.server.version[0]?.server_version ?? "?"} on loopback (fsync ${r.server.fsync[0]?.fsync ?? "?"}), a fresh database`,
    `- ${RUNNERS} runner processes on loopback, \`--size 1 --timings fast-failover\` each (started in ` +
    `${r.runnerStarts.map((ms) => `${num(ms)} ms`).join(" and ")}); cluster clients with \`size: ${CLIENT_SIZE}\``,
    `- ${rounds} round${rounds === 1 ? "" : "s"}, ${seconds.toFixed(0)} s in all; effect-parallel ${own.version} (${commit}), ` +
    `effect ${version("effect")}, @effect/sql-pg ${version("@effect/sql-pg")}`,
    "",
    "## Method",
    "",
    `Each round opens, one after the other, a cluster client with persisted delivery, one with volatile delivery`,
    `(both \`WorkerPool.layerCluster\` on the same two runners) and a local \`WorkerPool.layerThreads({ size: ${THREADS} })\`;`,
    "each is awaited (`WorkerPool.awaitReady`), warmed up (10 calls, a map of 200, 50 at once), measured, and",
    "closed. The task is `Double` (x * 2, `bench/tasks.ts`): the cost measured is the message, not the work.",
    `Every result is checked. Cells show the median${rounds === 1 ? "" : " and the range (min–max)"} over the rounds.`,
    "",
    `- **(a) round trip**: ${n(sizes.sequential)} calls of \`WorkerPool.run\`, each awaited before the next: ms per call.`,
    `- **(b) map**: \`WorkerPool.map(Double, xs)\` over ${n(sizes.map)} numbers, in chunks as the backend cuts them ` +
    `(the cluster: ${messages} messages, counted in storage, of ${n(Math.ceil(sizes.map / (CLIENT_SIZE * 4)))} tasks down to 1): tasks per second.`,
    `- **(c) at once**: ${n(sizes.atOnce)} single \`WorkerPool.run\` calls submitted together ` +
    "(`Effect.forEach(..., { concurrency: \"unbounded\" })`), one message each: tasks per second.",
    "",
    "## Results",
    "",
    header,
    row("(a) round trip, ms per call (lower is better)", rt),
    row(`(b) map of ${n(sizes.map)}, tasks/s (higher is better)`, map),
    row(`(c) ${n(sizes.atOnce)} at once, tasks/s (higher is better)`, once),
    "",
    "Elapsed times and start-up, ms:",
    "",
    header,
    row(`(b) map of ${n(sizes.map)}`, mapMs),
    row(`(c) ${n(sizes.atOnce)} at once`, onceMs),
    row("pool ready (layer built, `awaitReady`)", ready),
    "",
    "## Reading it",
    "",
    `- A persisted message costs ${ratio(rt("persisted").median, rt("volatile").median)} a volatile one in a round trip ` +
    `(${num(rt("persisted").median)} against ${num(rt("volatile").median)} ms): it is written to Postgres, and its reply ` +
    `read back from there, before the call returns. A volatile round trip costs ${ratio(rt("volatile").median, rt("threads").median)} ` +
    `one on local threads (${num(rt("threads").median)} ms).`,
    `- Batches hide the per-message cost: \`map\` sends ${messages} chunks instead of ${n(sizes.map)} messages, and ` +
    `reaches ${num(map("persisted").median)} tasks/s persisted and ${num(map("volatile").median)} volatile, against ` +
    `${num(once("persisted").median)} and ${num(once("volatile").median)} tasks/s for single tasks submitted at once.`,
    "- Send the cluster work that is large per message (a row, a file, a chunk of a batch): a task of a few",
    "  milliseconds or less costs more to deliver than to run, and belongs on local threads.",
    "- Machine noise: loopback only (no network latency), with the runners, Postgres and the client sharing the",
    `  same cores. On real hosts add the network's round trips${r.server.fsync[0]?.fsync === "off" ? ", and expect persisted messages to cost more on a Postgres with fsync on (this one has it off)" : ""}.`,
    ""
  ]
  return lines.join("\n")
}

const main = Effect.gen(function*() {
  const result = yield* program
  const text = report(result)
  console.log(text)
  if (write) {
    const file = fileURLToPath(new URL("../docs/cluster-performance.md", import.meta.url))
    writeFileSync(file, text)
    console.error(`bench/cluster.ts: wrote ${file}`)
  }
})

// runMain: Ctrl+C interrupts the run, and the finalizers still stop the runners and drop the database
NodeRuntime.runMain(main)
