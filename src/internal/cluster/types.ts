/**
 * The cluster's option types, apart from the modules that use them: these declarations are what a user's
 * program sees, and they must not reach `effect/cluster` or `@effect/sql-pg` (an optional peer dependency):
 * a program that does not use the cluster type-checks with `skipLibCheck: false`, without `@effect/sql-pg`
 * installed and without the DOM lib (Effect Cluster's RPC declarations need its `Transferable`).
 *
 * @internal
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type { ConnectionOptions } from "node:tls"
import type { PoolOptions } from "../options.ts"

/**
 * Cluster timings. Every runner and every client of one cluster should use the same values.
 *
 * @category models
 * @since 0.2.0
 */
export interface ClusterTimings {
  /** How long a runner's shard locks live without a refresh: bounds the failover after a runner dies. */
  readonly shardLockExpiration?: Duration.Input | undefined
  /** How often a runner refreshes its shard locks (at most a third of the expiration). */
  readonly shardLockRefreshInterval?: Duration.Input | undefined
  /** How often runners check each other's health. */
  readonly runnerHealthCheckInterval?: Duration.Input | undefined
  /** How often runners and clients reload the shard assignments. */
  readonly refreshAssignmentsInterval?: Duration.Input | undefined
  /** How often a runner looks in storage for messages it was not told about (redelivery after a failover). */
  readonly entityMessagePollInterval?: Duration.Input | undefined
  /** How often a client looks in storage for the replies to its persisted messages. */
  readonly entityReplyPollInterval?: Duration.Input | undefined
}

/**
 * `"fast-failover"`: a dead runner's tasks move to the others in about 5–7 s on loopback (Effect Cluster's
 * defaults take 30–40 s), at the price of more lock and health-check traffic to Postgres. `"default"`:
 * Effect Cluster's defaults (lock expiry 35 s, health checks every minute).
 *
 * @category models
 * @since 0.2.0
 */
export type ClusterTimingsOption = "default" | "fast-failover" | ClusterTimings

/** The Postgres connection: a URL (`postgres://user@host:5432/db`) or `@effect/sql-pg`'s pool options. */
export type PostgresOption = string | PostgresConfig

/**
 * The most used of `@effect/sql-pg`'s pool options (`PgPoolConfig`), spelled out here: `@effect/sql-pg` is
 * an optional peer dependency, and a program that does not install it must still type-check against these
 * declarations (`skipLibCheck: false`). Assignable to `PgPoolConfig` (checked where it is passed).
 */
export interface PostgresConfig {
  readonly url?: Redacted.Redacted | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly path?: string | undefined
  readonly ssl?: boolean | ConnectionOptions | undefined
  readonly database?: string | undefined
  readonly username?: string | undefined
  readonly password?: Redacted.Redacted | Effect.Effect<Redacted.Redacted> | undefined
  readonly connectTimeout?: Duration.Input | undefined
  readonly applicationName?: string | undefined
  readonly maxConnections?: number | undefined
  readonly minConnections?: number | undefined
  readonly idleTimeout?: Duration.Input | undefined
  readonly connectionTTL?: Duration.Input | undefined
}

/**
 * @category models
 * @since 0.2.0
 */
export interface ClusterOptions {
  /** Postgres shared with the runners: a URL (`postgres://user@host:5432/db`) or `@effect/sql-pg` pool options. */
  readonly postgres: PostgresOption
  /**
   * Messages (single tasks or chunks) in flight at once, and the parallelism `map` plans for. Set it to about
   * the number of worker threads across all runners. Default 16.
   */
  readonly size?: number | undefined
  /**
   * `"persisted"` (default): every message is stored in Postgres before it is delivered; if its runner dies
   * it is delivered again to the runner that takes over its shard (at-least-once). `"volatile"`: sent
   * straight to the runner, about 5× cheaper, but a runner's death fails its tasks with `ClusterUnavailable`.
   */
  readonly delivery?: "persisted" | "volatile" | undefined
  /** Cluster timings; use the same as the runners. Default Effect Cluster's. */
  readonly timings?: ClusterTimingsOption | undefined
  /** How long the first task waits for runners to answer before failing with `ClusterUnavailable`. Default 60 seconds. */
  readonly readyTimeout?: Duration.Input | undefined
}

/**
 * @category models
 * @since 0.2.0
 */
export interface RunnerOptions {
  /** Postgres shared by the runners and their clients: a URL or `@effect/sql-pg` pool options. */
  readonly postgres: PostgresOption
  /** Address other runners and clients reach this runner at. Default `localhost`. */
  readonly host?: string | undefined
  /** Port of this runner's socket server. Default 34431. */
  readonly port?: number | undefined
  /** Address to listen on, when it differs from `host` (e.g. `0.0.0.0` behind NAT). */
  readonly listenHost?: string | undefined
  /** The runner's local pool of worker threads (size, resourceLimits, interruptGrace ...). Default size "cores". */
  readonly pool?: PoolOptions | undefined
  /** This runner's share of the shards relative to the others (a runner with weight 2 gets twice as many). Default 1. */
  readonly weight?: number | undefined
  /** Cluster timings; use the same on every runner and client. */
  readonly timings?: ClusterTimingsOption | undefined
  /** Delete processed messages and their replies older than this (checked every tenth of it, at most hourly). Default 1 day; `"never"` keeps them. */
  readonly retention?: Duration.Input | "never" | undefined
}
