/**
 * Real Postgres and real runner processes for the cluster suites.
 *
 * Postgres: `EFFECT_PARALLEL_PG_URL`, or the server `bash scripts/postgres.sh start` runs (127.0.0.1:54329).
 * Without one the suites are skipped, with the reason in their names, except under CI (`CI` set), where a
 * missing Postgres fails them: `.ci/run` starts it.
 *
 * Each suite gets a database of its own (created here, dropped after), so runners of different suites
 * never meet, and its own runner processes (`node src/cli.ts runner`) on free loopback ports.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import type { Scope } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as net from "node:net"

export const adminUrl = process.env.EFFECT_PARALLEL_PG_URL ?? "postgres://postgres@127.0.0.1:54329/postgres"

const reachable = (url: string): Promise<boolean> =>
  new Promise((resolve) => {
    const u = new URL(url)
    const socket = net.connect({ host: u.hostname, port: Number(u.port || 5432) })
    socket.setTimeout(2000)
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
    socket.once("timeout", () => {
      socket.destroy()
      resolve(false)
    })
  })

export const postgresAvailable = await reachable(adminUrl)
if (!postgresAvailable && process.env.CI !== undefined) {
  throw new Error(`CI: no Postgres at ${adminUrl}; .ci/run must start it (bash scripts/postgres.sh start)`)
}

/** The suite name, with the reason when it is skipped. */
export const needsPostgres = (name: string): string =>
  postgresAvailable ? name : `${name} (skipped: no Postgres at ${adminUrl}; start one with: bash scripts/postgres.sh start)`

const admin = <A, E>(f: (sql: SqlClient) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    return yield* f(yield* SqlClient)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(adminUrl) })), Effect.orDie)

/** A fresh database for one suite, dropped when the scope closes. Returns its URL. */
export const freshDatabase: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.gen(function*() {
    const name = `ep_test_${randomBytes(6).toString("hex")}`
    yield* admin((sql) => sql.unsafe(`CREATE DATABASE ${name}`))
    const u = new URL(adminUrl)
    u.pathname = `/${name}`
    return u.toString()
  }),
  (url) => admin((sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`)).pipe(Effect.ignore)
)

/** A free TCP port on loopback. */
export const freePort: Effect.Effect<number> = Effect.promise(() =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
)

export interface RunnerProcess {
  readonly pid: number
  readonly port: number
  readonly child: ChildProcess
  /** Everything the runner printed. */
  readonly output: () => string
  readonly exited: Promise<void>
}

const cli = new URL("../../src/cli.ts", import.meta.url).pathname

/**
 * Starts `node <args>` and waits until it prints `ready`; the scope's close stops it (SIGTERM, then SIGKILL
 * after 10 s) and waits for its exit. `cpus` pins it (every thread of it) to those CPUs with `taskset`.
 */
export const startProcess = (
  args: ReadonlyArray<string>,
  ready: string,
  options: { readonly cpus?: string | undefined } = {}
): Effect.Effect<RunnerProcess & { readonly port: number }, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const port = yield* freePort
    const full = args.map((a) => (a === "{port}" ? String(port) : a))
    // taskset execs node in its own process: the pid is the runner's
    const [command, argv] = options.cpus === undefined
      ? [process.execPath, full]
      : ["taskset", ["-c", options.cpus, process.execPath, ...full]]
    return yield* Effect.acquireRelease(
      Effect.callback<RunnerProcess, Error>((resume) => {
        const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"] })
        let out = ""
        let started = false
        const exited = new Promise<void>((r) => child.once("exit", () => r()))
        const runner: RunnerProcess = { pid: child.pid!, port, child, output: () => out, exited }
        const onData = (chunk: Buffer) => {
          out += chunk.toString()
          if (!started && out.includes(ready)) {
            started = true
            resume(Effect.succeed(runner))
          }
        }
        child.stdout!.on("data", onData)
        child.stderr!.on("data", onData)
        child.once("error", (e) => {
          if (!started) resume(Effect.fail(new Error(`${command} could not start: ${e.message}`)))
        })
        child.once("exit", (code, signal) => {
          if (!started) resume(Effect.fail(new Error(`${args[0]} exited before it was ready (${code ?? signal}):\n${out}`)))
        })
        return Effect.sync(() => child.kill("SIGKILL"))
      }),
      (runner) =>
        Effect.promise(async () => {
          if (runner.child.exitCode !== null || runner.child.signalCode !== null) return
          runner.child.kill("SIGTERM")
          const timer = setTimeout(() => runner.child.kill("SIGKILL"), 10_000)
          await runner.exited
          clearTimeout(timer)
        })
    )
  })

/**
 * Starts a runner process (`node src/cli.ts runner`) on a free loopback port and waits until it serves
 * tasks; the scope's close stops it (SIGTERM, then SIGKILL after 10 s) and waits for its exit.
 */
export const startRunner = (
  postgres: string,
  options: {
    readonly size?: number
    readonly timings?: "default" | "fast-failover"
    readonly interruptGrace?: string
    readonly retention?: string
    /** Pin the runner to these CPUs (`taskset -c`), e.g. "0" or "0,1". */
    readonly cpus?: string
  } = {}
): Effect.Effect<RunnerProcess, Error, Scope.Scope> =>
  startProcess(
    [
      cli,
      "runner",
      "--postgres",
      postgres,
      "--host",
      "127.0.0.1",
      "--port",
      "{port}",
      "--size",
      String(options.size ?? 1),
      "--timings",
      options.timings ?? "fast-failover",
      "--interrupt-grace",
      options.interruptGrace ?? "300 millis",
      ...(options.retention === undefined ? [] : ["--retention", options.retention])
    ],
    "runner ready at",
    { cpus: options.cpus }
  )
