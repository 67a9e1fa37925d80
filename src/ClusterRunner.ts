/**
 * A cluster runner: the process that serves tasks to `WorkerPool.layerCluster` clients.
 *
 * A runner joins an Effect Cluster whose storage is Postgres, serves the generic task entity, and runs
 * every task it is sent on its own pool of worker threads (never on its main thread, which must stay free
 * to refresh its shard locks; the main thread does not even import the task modules). Clients send it work
 * in proportion to its worker threads (`pool.size`). When Postgres goes away it stops its tasks once its
 * shard locks lapse, and takes its shards again on its own when Postgres is back. Start one per host, with
 * the same Postgres and timings as the clients:
 *
 * ```sh
 * npx effect-parallel runner --postgres postgres://user@db:5432/jobs --host 10.0.0.5 --port 34431 --size cores
 * ```
 *
 * or embed one in a program with {@link layer}.
 *
 * @since 0.2.0
 */
import "./internal/nodeVersion.ts"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { loadCluster } from "./internal/cluster/load.ts"
import type * as Duration from "effect/Duration"
import type { WorkerError } from "./WorkerError.ts"
import type { ClusterTimingsOption, PoolOptions, PostgresOption } from "./WorkerPool.ts"

/**
 * Options of a runner: `postgres` (required), `host` and `port` (the address clients and other runners
 * reach it at), `listenHost`, `weight` (its share of the shards), `pool` (options of its local thread pool:
 * `size`, `interruptGrace`, `resourceLimits` ...), `timings` (same as the clients'), and `retention` of
 * processed messages.
 *
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
  /**
   * This runner's share of the shards relative to the others (a runner with weight 2 gets twice as many).
   * Rarely needed: clients send work to runners by their free worker threads, whatever their shards. Default 1.
   */
  readonly weight?: number | undefined
  /** Cluster timings; use the same on every runner and client. */
  readonly timings?: ClusterTimingsOption | undefined
  /** Delete processed messages and their replies older than this (checked every tenth of it, at most hourly). Default 1 day; `"never"` keeps them. */
  readonly retention?: Duration.Input | "never" | undefined
}

/**
 * A runner as a layer: it serves tasks from when the layer is built until its scope closes; closing it
 * hands the runner's shards to the other runners (their messages are not lost) and ends its workers.
 *
 * **When to use**
 *
 * To embed a runner in your own program (with your own logging, configuration or health endpoint). For a
 * plain runner process, use the `effect-parallel runner` command.
 *
 * **Example**
 *
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { ClusterRunner } from "effect-parallel"
 *
 * ClusterRunner.layer({ postgres: process.env.DATABASE_URL!, host: "10.0.0.5", port: 34431, timings: "fast-failover" })
 *   .pipe(Layer.launch, NodeRuntime.runMain)
 * ```
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (options: RunnerOptions): Layer.Layer<never, WorkerError> =>
  // loaded on demand: importing effect-parallel does not load the cluster and the Postgres driver
  Layer.unwrap(Effect.map(loadCluster("runner", () => import("./internal/cluster/runner.ts")), (m) => m.layer(options)))

/**
 * Runs a runner until interrupted, calling `onReady` once it serves tasks.
 *
 * @category running
 * @since 0.2.0
 */
export const run = (options: RunnerOptions, onReady?: () => void): Effect.Effect<never, WorkerError> =>
  Layer.build(layer(options)).pipe(
    Effect.andThen(Effect.sync(() => onReady?.())),
    Effect.andThen(Effect.never),
    Effect.scoped
  )
