// Effect 4's own RPC worker pool: RpcClient.layerProtocolWorker over NodeWorker.layer spawning worker_threads
// Workers of bench/workers/effect-rpc.ts (EFFECT4.md section 6), default concurrency (1 request per worker).
import { NodeWorker } from "@effect/platform-node"
import { Context, Effect, Layer, ManagedRuntime } from "effect"
import { RpcClient, type RpcClientError } from "effect/rpc"
import { Worker } from "node:worker_threads"
import { BenchRpcs } from "../workers/effect-rpc-protocol.ts"
import type { PoolAdapter } from "./types.ts"

const workerUrl = new URL("../workers/effect-rpc.ts", import.meta.url)

class Client extends Context.Service<Client, RpcClient.FromGroup<typeof BenchRpcs, RpcClientError.RpcClientError>>()(
  "bench/EffectRpcClient"
) {}

export const adapters: ReadonlyArray<PoolAdapter> = [{
  id: "effect-rpc",
  label: "Effect 4 RPC workers",
  kind: "peer",
  workloads: ["W1", "W2", "W3", "W4", "W5"],
  sumModes: ["copy", "transfer", "shared"],
  open: async (workers) => {
    const layer = Layer.effect(Client, RpcClient.make(BenchRpcs)).pipe(
      Layer.provide(RpcClient.layerProtocolWorker({ size: workers })),
      Layer.provide(NodeWorker.layer(() => new Worker(workerUrl)))
    )
    const runtime = ManagedRuntime.make(layer)
    const run = <A>(f: (c: Client["Service"]) => Effect.Effect<A, unknown>) =>
      runtime.runPromise(Client.use(f))
    // build the layer now (spawns the workers), as the other pools do in their constructors
    await runtime.runPromise(Effect.void)
    return {
      doubleAll: (xs) => run((c) => Effect.forEach(xs, (x) => c.Double(x), { concurrency: "unbounded" })),
      doubleSequential: (xs) => run((c) => Effect.forEach(xs, (x) => c.Double(x))),
      mandelbrotRows: (rows) => run((c) => Effect.forEach(rows, (r) => c.MandelbrotRow(r), { concurrency: "unbounded" })),
      // the schemas type a Float64Array<ArrayBuffer>; a view over a SharedArrayBuffer passes their instanceof check
      sum: (data, mode) => {
        const d = data as Float64Array<ArrayBuffer>
        return run((c) => (mode === "transfer" ? c.SumMove(d) : c.SumCopy(d)))
      },
      close: () => runtime.dispose()
    }
  }
}]
