// Without the optional peer @effect/sql-pg installed, the cluster client and the runner fail with a typed
// WorkerError that says what to install. Prints one JSON line per constructor.
import { Effect, Layer } from "effect"
import { ClusterRunner, WorkerPool } from "effect-parallel"

const postgres = "postgres://nobody@127.0.0.1:1/none"
for (const [name, layer] of [
  ["layerCluster", WorkerPool.layerCluster({ postgres })],
  ["ClusterRunner.layer", ClusterRunner.layer({ postgres })]
] as const) {
  const error = await Effect.runPromise(Effect.flip(Effect.scoped(Layer.build(layer as Layer.Layer<unknown, unknown>))))
  const e = error as { _tag?: string; reason?: { _tag?: string }; message?: string }
  console.log(JSON.stringify({ name, tag: e._tag, reason: e.reason?._tag, message: e.message }))
}
