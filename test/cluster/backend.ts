/**
 * The cluster as a backend of the pool conformance suite (`test/conformance/pool.test.ts`): one fresh
 * database and two runner processes (4 worker threads each) for the whole file, started at import when
 * Postgres is there, stopped after the file's last test.
 */
import { afterAll } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import { WorkerPool } from "../../src/index.ts"
import type { BackendCase } from "../conformance/backends.ts"
import { freshDatabase, postgresAvailable, startRunner } from "./setup.ts"

const start = async (): Promise<BackendCase> => {
  const scope = Effect.runSync(Scope.make())
  afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)), 60_000)
  const postgres = await Effect.runPromise(
    Effect.gen(function*() {
      const postgres = yield* freshDatabase
      yield* startRunner(postgres, { size: 4 })
      yield* startRunner(postgres, { size: 4 })
      return postgres
    }).pipe(Scope.provide(scope))
  )
  return {
    name: "cluster",
    // the runners' pools were configured when they started: a test's pool options do not reach them
    layer: () => WorkerPool.layerCluster({ postgres, size: 8, timings: "fast-failover" }),
    isolated: true,
    sharedMemory: false,
    remote: true
  }
}

/** The cluster backend, or nothing when there is no Postgres (the cluster suites say so in their names). */
export const clusterBackends: ReadonlyArray<BackendCase> = postgresAvailable ? [await start()] : []
