/**
 * A throw-away cluster on this machine, for the cluster examples: a fresh database on a Postgres server
 * and runner processes on loopback, each acquired in the current scope and released when it closes (the
 * runners stopped with SIGTERM and waited for, then the database dropped).
 *
 * On real hosts you do neither: the database exists, and each host runs
 * `npx effect-parallel runner --postgres URL --host <its address> --port <port>` (here:
 * `node src/cli.ts runner`, the same command from a checkout).
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted, type Scope } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as net from "node:net"

/** The Postgres server of `bash scripts/postgres.sh start`, unless `EFFECT_PARALLEL_PG_URL` names another. */
export const defaultPostgres = process.env.EFFECT_PARALLEL_PG_URL ?? "postgres://postgres@127.0.0.1:54329/postgres"

/** Runs one statement on the server's own database (CREATE / DROP DATABASE cannot run in the one they name). */
const admin = (server: string, statement: string) =>
  Effect.flatMap(SqlClient, (sql) => sql.unsafe(statement)).pipe(
    Effect.provide(PgClient.layer({ url: Redacted.make(server), connectTimeout: "5 seconds" })),
    Effect.mapError((e) => new Error(`Postgres at ${withoutPassword(server)}: ${e.message}`))
  )

const withoutPassword = (url: string): string => {
  const u = new URL(url)
  u.password = ""
  return u.toString()
}

/** A fresh database `ep_example_<random>` on `server`, dropped when the scope closes. Returns its URL. */
export const freshDatabase = (server: string): Effect.Effect<string, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const name = `ep_example_${randomBytes(6).toString("hex")}`
      yield* admin(server, `CREATE DATABASE ${name}`)
      const u = new URL(server)
      u.pathname = `/${name}`
      return u.toString()
    }),
    // WITH (FORCE): connections a killed runner left behind must not keep the database alive
    (url) => admin(server, `DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`).pipe(Effect.orDie)
  )

/** A free TCP port on loopback (the kernel picks it; closed again before the runner binds it). */
const freePort = Effect.promise(() =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
)

export interface Runner {
  readonly pid: number
  readonly address: string
  readonly child: ChildProcess
}

const cli = new URL("../../src/cli.ts", import.meta.url).pathname

/**
 * Starts `effect-parallel runner` on loopback with `size` worker threads and waits for its ready line.
 * When the scope closes the runner gets SIGTERM (it hands its shards over and ends its workers), SIGKILL
 * if it is still there 10 s later, and the scope waits for its exit.
 */
export const startRunner = (postgres: string, size = 1): Effect.Effect<Runner, Error, Scope.Scope> =>
  Effect.flatMap(freePort, (port) =>
    Effect.acquireRelease(
      Effect.callback<Runner, Error>((resume) => {
        const args = ["runner", "--postgres", postgres, "--host", "127.0.0.1", "--port", String(port), "--size", String(size), "--timings", "fast-failover"]
        const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] })
        let output = ""
        let ready = false
        const onData = (chunk: Buffer) => {
          output += chunk.toString()
          if (!ready && output.includes("runner ready at")) {
            ready = true
            resume(Effect.succeed({ pid: child.pid!, address: `127.0.0.1:${port}`, child }))
          }
        }
        // read both streams to the end: a runner whose pipe fills up would block on its next log line
        child.stdout!.on("data", onData)
        child.stderr!.on("data", onData)
        child.once("exit", (code, signal) => {
          if (!ready) resume(Effect.fail(new Error(`the runner exited before it was ready (${code ?? signal}):\n${output}`)))
        })
        // interrupted while starting: nothing to hand over yet
        return Effect.sync(() => child.kill("SIGKILL"))
      }),
      ({ child }) =>
        Effect.promise(() =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
            child.once("exit", () => {
              clearTimeout(timer)
              resolve()
            })
            child.kill("SIGTERM")
          })
        )
    ))
