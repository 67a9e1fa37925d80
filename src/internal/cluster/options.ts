/**
 * Options shared by the cluster client and the runners: the Postgres connection and the cluster timings.
 *
 * @internal
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import type * as ShardingConfig from "effect/cluster/ShardingConfig"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import { SqlClient } from "effect/sql/SqlClient"
import { ClusterUnavailable, WorkerError } from "../../WorkerError.ts"
import type { ClusterOptions, ClusterTimings, ClusterTimingsOption, PostgresOption } from "../../WorkerPool.ts"
import { type Checked, durationMillis, invalid, isPositiveInt, orFail } from "../options.ts"

const fastFailover: ClusterTimings = {
  shardLockExpiration: "6 seconds",
  shardLockRefreshInterval: "2 seconds",
  runnerHealthCheckInterval: "2 seconds",
  refreshAssignmentsInterval: "1 second",
  entityMessagePollInterval: "1 second"
}

export const unavailable = (message: string, taskName = ""): WorkerError =>
  new WorkerError({ reason: new ClusterUnavailable({ taskName, message }) })

type Sharding = Partial<ShardingConfig.ShardingConfig["Service"]>

/** The cluster timings as Effect Cluster's sharding configuration. */
export const shardingConfigOf = (timings: ClusterTimingsOption | undefined): Checked<Sharding> =>
  Result.gen(function*() {
    const t = timings === undefined || timings === "default" ? {} : timings === "fast-failover" ? fastFailover : timings
    if (typeof t !== "object" || t === null) {
      return yield* invalid("timings", `timings must be "default", "fast-failover" or an object of durations, got ${String(timings)}`)
    }
    const out: Record<string, Duration.Duration> = {}
    for (const [key, value] of Object.entries(t)) {
      if (value === undefined) continue
      out[key] = Duration.millis(yield* durationMillis(`timings.${key}`, value))
    }
    return out as Sharding
  })

/** A cluster client's options, validated, with their defaults. */
export const resolveClusterOptions = (options: ClusterOptions): Checked<{
  readonly size: number
  readonly delivery: "persisted" | "volatile"
  readonly readyTimeout: Duration.Duration
  readonly unavailableTimeoutMillis: number
  readonly sharding: Sharding
}> =>
  Result.gen(function*() {
    const size = options.size ?? 16
    if (!isPositiveInt(size)) return yield* invalid("size", `size must be a positive integer, got ${String(size)}`)
    const delivery = options.delivery ?? "persisted"
    if (delivery !== "persisted" && delivery !== "volatile") {
      return yield* invalid("delivery", `delivery must be "persisted" or "volatile", got ${String(delivery)}`)
    }
    const readyTimeout = yield* durationMillis("readyTimeout", options.readyTimeout ?? "60 seconds", `readyTimeout must be a duration, got ${String(options.readyTimeout)}`)
    const unavailableTimeoutMillis = yield* durationMillis(
      "unavailableTimeout",
      options.unavailableTimeout ?? "60 seconds",
      `unavailableTimeout must be a duration, got ${String(options.unavailableTimeout)}`
    )
    return {
      size,
      delivery,
      readyTimeout: Duration.millis(readyTimeout),
      unavailableTimeoutMillis,
      sharding: yield* shardingConfigOf(options.timings)
    }
  })

/** The SQL client layer for Postgres; a connection failure becomes a `ClusterUnavailable` WorkerError. */
export const postgresLayer = (postgres: PostgresOption | undefined): Layer.Layer<SqlClient, WorkerError> => {
  if (postgres === undefined || (typeof postgres !== "string" && typeof postgres !== "object")) {
    return Layer.effectContext(orFail(invalid("postgres", `postgres must be a connection URL or @effect/sql-pg pool options, got ${String(postgres)}`)))
  }
  const config: PgClient.PgPoolConfig = typeof postgres === "string" ? { url: Redacted.make(postgres) } : postgres
  // The client connects lazily and the cluster's storage layers turn a failed first query into a defect:
  // one query here makes an unreachable Postgres a typed error that names it.
  return Layer.effectContext(
    Effect.gen(function*() {
      const context = yield* Layer.build(PgClient.layer({ connectTimeout: "5 seconds", ...config }))
      yield* Effect.flatMap(SqlClient, (sql) => sql`SELECT 1`).pipe(Effect.provideContext(context))
      return context
    }).pipe(Effect.mapError((e) => unavailable(`cannot connect to Postgres (${describe(postgres)}): ${e.message}${rootCause(e)}`)))
  )
}

/** An error's `_tag`, when it has one. */
export const tagOf = (e: unknown): string | undefined =>
  typeof e === "object" && e !== null && "_tag" in e ? String((e as { _tag: unknown })._tag) : undefined

/** An error of Effect Cluster or the SQL client, in one line: its tag, its message and its root cause. */
export const describeError = (e: unknown): string => {
  const tag = tagOf(e)
  const message = e instanceof Error ? e.message : String(e)
  const head = tag === undefined ? message : message === "" ? tag : `${tag}: ${message}`
  return `${head}${rootCause(e)}`
}

/** The innermost cause's message (`connect ECONNREFUSED 127.0.0.1:5432`), in parentheses. */
const rootCause = (e: unknown): string => {
  let c = (e as { cause?: unknown }).cause
  let message = ""
  while (c instanceof Error) {
    message = c.message
    c = (c as { cause?: unknown }).cause
  }
  return message === "" ? "" : ` (${message})`
}

/** A layer whose build failure is mapped by `f` (Layer has no `mapError`). */
export const mapLayerError = <A, E, R, E2>(layer: Layer.Layer<A, E, R>, f: (e: E) => E2): Layer.Layer<A, E2, R> =>
  Layer.effectContext(Effect.mapError(Layer.build(layer), f))

/** The connection, without a password, for messages. */
export const describe = (postgres: PostgresOption): string => {
  if (typeof postgres === "string") {
    try {
      const u = new URL(postgres)
      u.password = ""
      return u.toString()
    } catch {
      return "an invalid URL"
    }
  }
  return `${postgres.host ?? "localhost"}:${postgres.port ?? 5432}/${postgres.database ?? ""}`
}
