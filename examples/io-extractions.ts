/**
 * Two slow extractions from two remote tables, first one after the other, then both at once. Waiting is
 * not CPU work: no workers are needed, the main thread's event loop overlaps the waits by itself
 * (Python's `ThreadPoolExecutor` for I/O, or `asyncio.gather`).
 *
 *   node examples/io-extractions.ts            # 8 + 12 pages of 250 / 200 ms each: about 4.4 s, then 2.4 s
 *   node examples/io-extractions.ts --small    # the same with 25 / 20 ms pages (CI); or SMALL=1
 *   node examples/io-extractions.ts --out=DIR  # where to write the CSV files (default out/); or OUT_DIR=DIR
 *
 * Each "remote table" is read page by page, as a cursor-based API is: page n + 1 is asked for only after
 * page n arrived, so one extraction cannot go faster than the sum of its page latencies. Two extractions
 * share nothing, so running them at once takes as long as the slower one: sequential ≈ sum, concurrent ≈
 * max. `Parallel.forEach(..., { concurrency: "unbounded" })` does it; with a hundred tables, a number
 * (`concurrency: 8`) keeps the remote side from being flooded.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Parallel } from "../src/index.ts"

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const outDir = process.argv.find((a) => a.startsWith("--out="))?.slice(6) ?? process.env.OUT_DIR ?? "out"
const slow = small ? 0.1 : 1

interface Table {
  readonly name: string
  readonly pages: number
  readonly rowsPerPage: number
  /** How long the remote side takes to answer one page. */
  readonly latencyMillis: number
  readonly columns: ReadonlyArray<string>
  readonly row: (id: number) => ReadonlyArray<string | number>
}

/** A small integer hash, so that every run writes the same rows. */
const hash = (n: number): number => {
  let x = Math.imul((n + 0x9e3779b9) ^ (n >>> 16), 0x7feb352d)
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b)
  return (x ^ (x >>> 16)) >>> 0
}

const CITIES = ["Lisbon", "Osaka", "Quito", "Tromsø", "Accra", "Perth", "Tartu", "Cusco"]

const tables: ReadonlyArray<Table> = [
  {
    name: "customers",
    pages: 8,
    rowsPerPage: 250,
    latencyMillis: 250 * slow,
    columns: ["id", "city", "since"],
    row: (id) => [id, CITIES[hash(id) % CITIES.length]!, 2000 + (hash(id + 1) % 25)]
  },
  {
    name: "orders",
    pages: 12,
    rowsPerPage: 250,
    latencyMillis: 200 * slow,
    columns: ["id", "customer", "amount"],
    row: (id) => [id, hash(id) % 2000, ((hash(id + 7) % 100_000) / 100).toFixed(2)]
  }
]

/** One page from the remote side: it takes `latencyMillis` to come back. */
const fetchPage = (table: Table, page: number) =>
  Effect.sleep(Duration.millis(table.latencyMillis)).pipe(
    Effect.as(Array.from({ length: table.rowsPerPage }, (_, k) => table.row(page * table.rowsPerPage + k)))
  )

/** Reads every page in turn and writes the table to `<dir>/<name>.csv`; returns the number of rows. */
const extract = (table: Table, dir: string) =>
  Effect.gen(function*() {
    const lines = [table.columns.join(",")]
    for (let page = 0; page < table.pages; page++) {
      for (const row of yield* fetchPage(table, page)) lines.push(row.join(","))
    }
    const file = path.join(dir, `${table.name}.csv`)
    yield* Effect.promise(async () => {
      await fs.mkdir(dir, { recursive: true })
      await fs.writeFile(file, lines.join("\n") + "\n")
    })
    return lines.length - 1
  })

const program = Effect.gen(function*() {
  const base = path.join(outDir, "io-extractions")
  for (const t of tables) {
    console.log(`${t.name}: ${t.pages} pages of ${t.rowsPerPage} rows, ${t.latencyMillis} ms a page`)
  }
  const alone = tables.map((t) => t.pages * t.latencyMillis)
  console.log()

  // One after the other: the second extraction starts when the first one has finished.
  const [sequential, rowsA] = yield* Effect.timed(
    Effect.forEach(tables, (t) => extract(t, path.join(base, "sequential")))
  )
  // Both at once, in the main thread: each waits for its own pages, the event loop serves both.
  const [concurrent, rowsB] = yield* Effect.timed(
    Parallel.forEach(tables, (t) => extract(t, path.join(base, "concurrent")), { concurrency: "unbounded" })
  )

  // The same rows either way, byte for byte.
  for (const t of tables) {
    const [a, b] = yield* Effect.promise(() =>
      Promise.all(["sequential", "concurrent"].map((d) => fs.readFile(path.join(base, d, `${t.name}.csv`))))
    )
    if (!a!.equals(b!)) return yield* Effect.die(new Error(`${t.name}.csv differs between the two runs`))
  }

  const ms = (d: Duration.Duration) => `${Duration.toMillis(d).toFixed(0)} ms`
  const line = (cells: ReadonlyArray<string>) =>
    console.log(`  ${cells[0]!.padEnd(12)}${cells[1]!.padStart(6)}${cells[2]!.padStart(10)}   ${cells[3]}`)
  line(["run", "rows", "time", "expected"])
  const sum = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0)
  line(["sequential", String(sum(rowsA)), ms(sequential), `≈ ${sum(alone)} ms (sum)`])
  line(["concurrent", String(sum(rowsB)), ms(concurrent), `≈ ${Math.max(...alone)} ms (max)`])
  console.log(
    `\nThe same CSV files both ways, in ${base}/{sequential,concurrent}. ` +
      `Concurrent took ${(Duration.toMillis(concurrent) / Duration.toMillis(sequential) * 100).toFixed(0)}% ` +
      `of the sequential time, without a single worker.`
  )
})

NodeRuntime.runMain(program)
