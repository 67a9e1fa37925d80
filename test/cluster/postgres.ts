/**
 * A Postgres server of a test's own, to stop and start while the cluster runs on it: `scripts/postgres.sh`
 * (the script CI and developers use) on a free port and a fresh data folder, so that stopping it never
 * touches the shared server the other suites use. The scope's close stops it and deletes its data.
 *
 * It needs Debian's PostgreSQL binaries on this machine (`/usr/lib/postgresql/<version>/bin`); as root (CI)
 * the script runs them as the `postgres` user.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./setup.ts"

const script = new URL("../../scripts/postgres.sh", import.meta.url).pathname

/** Whether this machine has the binaries (`pg_ctl`) to run a server of its own. */
export const postgresBinaries: boolean = (() => {
  try {
    return readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/pg_ctl`))
  } catch {
    return false
  }
})()

if (!postgresBinaries && process.env.CI !== undefined) {
  throw new Error("CI: no PostgreSQL binaries under /usr/lib/postgresql; scripts/postgres.sh installs them")
}

export interface OwnPostgres {
  /** The connection URL of its `postgres` database. */
  readonly url: string
  readonly port: number
  /** `pg_ctl stop -m fast`: connections are cut, the server is gone until `start`. */
  readonly stop: Effect.Effect<void, Error>
  /** Starts it again on the same port and data. */
  readonly start: Effect.Effect<void, Error>
}

const run = (command: "start" | "stop", port: number, data: string) =>
  Effect.callback<string, Error>((resume) => {
    const child = execFile("bash", [script, command], {
      env: { ...process.env, PGPORT: String(port), PGDATA_DIR: data },
      encoding: "utf8",
      timeout: 120_000
    }, (error, stdout, stderr) => {
      resume(error === null ? Effect.succeed(stdout.trim()) : Effect.fail(new Error(`postgres.sh ${command}: ${error.message}\n${stderr}`)))
    })
    return Effect.sync(() => child.kill())
  })

/** Starts a throw-away server (initdb on first start); the scope's close stops it and removes its data. */
export const ownPostgres: Effect.Effect<OwnPostgres, Error, Scope.Scope> = Effect.gen(function*() {
  const port = yield* freePort
  const data = mkdtempSync(join(tmpdir(), "ep-own-pg-"))
  const url = yield* Effect.acquireRelease(
    run("start", port, data),
    () => run("stop", port, data).pipe(Effect.ignore, Effect.andThen(Effect.sync(() => rmSync(data, { recursive: true, force: true }))))
  )
  return { url, port, stop: Effect.asVoid(run("stop", port, data)), start: Effect.asVoid(run("start", port, data)) }
})
