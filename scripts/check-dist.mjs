// Checks the published build: `dist/` alone (plain JS, no type stripping) runs a task on threads and on
// processes through the built generic worker entry. Run after `npm run build`.
//
// It first checks the bundle's evaluation order: from every entry point in package.json, the Node version
// check (src/internal/nodeVersion.ts) must be evaluated before any module of `effect`, as it is in the
// sources (test/nodeVersion.test.ts checks those), so that an old Node gets its clear message first.
import { Effect, Redacted, Schema } from "effect"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { createServer } from "node:net"
import { dirname, join, normalize } from "node:path"
import { fileURLToPath } from "node:url"
import { Task, WorkerPool } from "../dist/index.js"

const checkEvaluationOrder = () => {
  const root = fileURLToPath(new URL("../", import.meta.url))
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
  const entries = [
    ...Object.values(pkg.exports).flatMap((t) => t !== null && typeof t === "object" ? [t.default] : []),
    ...Object.values(pkg.bin)
  ].map((file) => normalize(join(root, file)))
  /** The modules `file` evaluates, in the order ES modules evaluate them (its static imports first, in order). */
  const evaluationOrder = (file, seen = new Set(), order = []) => {
    if (seen.has(file)) return order
    seen.add(file)
    const source = readFileSync(file, "utf8")
    for (const m of source.matchAll(/^(?:import|export)\s(?:[^"';]*?\sfrom\s)?"([^"]+)";?$/gm)) {
      const spec = m[1]
      if (spec.startsWith(".")) evaluationOrder(normalize(join(dirname(file), spec)), seen, order)
      else if (!seen.has(spec)) (seen.add(spec), order.push(spec))
    }
    order.push(file)
    return order
  }
  for (const entry of entries) {
    const order = evaluationOrder(entry)
    const guard = order.findIndex((m) => /[\\/]nodeVersion\.js$/.test(m))
    const firstEffect = order.findIndex((m) => m === "effect" || m.startsWith("effect/") || m.startsWith("@effect/"))
    if (guard === -1 || (firstEffect !== -1 && firstEffect < guard)) {
      throw new Error(`${entry}: the Node version check must run before ${order[firstEffect]}; evaluation order: ${order.join(", ")}`)
    }
  }
  console.log(`dist: the Node version check runs first from all ${entries.length} entry points`)
}

export const Square = Task.make("Square", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (n) => Effect.succeed(n * n)
})

if (import.meta.main) {
  checkEvaluationOrder()
  const program = Effect.gen(function*() {
    const one = yield* Square(12)
    const all = yield* WorkerPool.map(Square, [1, 2, 3, 4])
    return [one, ...all]
  })
  for (const [name, layer] of [["threads", WorkerPool.layerThreads], ["processes", WorkerPool.layerProcesses]]) {
    const result = await Effect.runPromise(program.pipe(Effect.provide(layer({ size: 2 }))))
    if (JSON.stringify(result) !== "[144,1,4,9,16]") throw new Error(`dist on ${name}: got ${JSON.stringify(result)}`)
    console.log(`dist on ${name}: ok ${JSON.stringify(result)}`)
  }

  // The cluster: the built `effect-parallel runner` command serves a client of the built package.
  const admin = process.env.EFFECT_PARALLEL_PG_URL
  if (admin === undefined) {
    console.log("dist on cluster: skipped (EFFECT_PARALLEL_PG_URL is not set)")
  } else {
    const { PgClient } = await import("@effect/sql-pg")
    const { SqlClient } = await import("effect/sql/SqlClient")
    const sql = (statement) =>
      Effect.runPromise(
        Effect.flatMap(SqlClient, (c) => c.unsafe(statement)).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(admin) })))
      )
    const name = `ep_dist_${randomBytes(6).toString("hex")}`
    await sql(`CREATE DATABASE ${name}`)
    const url = new URL(admin)
    url.pathname = `/${name}`
    const port = await new Promise((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const p = server.address().port
        server.close(() => resolve(p))
      })
    })
    const cli = new URL("../dist/cli.js", import.meta.url).pathname
    const runner = spawn(process.execPath, [cli, "runner", "--postgres", url.href, "--host", "127.0.0.1", "--port", String(port), "--size", "1", "--timings", "fast-failover"], { stdio: ["ignore", "pipe", "inherit"] })
    try {
      await new Promise((resolve, reject) => {
        let out = ""
        runner.stdout.on("data", (d) => {
          out += d
          if (out.includes("runner ready at")) resolve()
        })
        runner.once("exit", (code) => reject(new Error(`dist runner exited (${code}): ${out}`)))
      })
      const result = await Effect.runPromise(program.pipe(Effect.provide(WorkerPool.layerCluster({ postgres: url.href, timings: "fast-failover" }))))
      if (JSON.stringify(result) !== "[144,1,4,9,16]") throw new Error(`dist on cluster: got ${JSON.stringify(result)}`)
      console.log(`dist on cluster: ok ${JSON.stringify(result)}`)
    } finally {
      runner.kill("SIGTERM")
      await new Promise((resolve) => runner.exitCode !== null ? resolve() : runner.once("exit", resolve))
      await sql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    }
  }
}
