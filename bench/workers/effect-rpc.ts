// Effect 4 RPC worker (RpcServer over NodeWorkerRunner), the pattern of EFFECT4.md section 6.
import { NodeRuntime, NodeWorkerRunner } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { RpcServer } from "effect/rpc"
import { double, mandelbrotRow, sumArray } from "../kernels.ts"
import { BenchRpcs } from "./effect-rpc-protocol.ts"

const Handlers = BenchRpcs.toLayer({
  Double: (x) => Effect.succeed(double(x)),
  MandelbrotRow: (p) => Effect.sync(() => mandelbrotRow(p.y, p.width, p.height, p.maxIter)),
  SumCopy: (data) => Effect.sync(() => sumArray(data)),
  SumMove: (data) => Effect.sync(() => sumArray(data))
})

const Main = RpcServer.layer(BenchRpcs).pipe(
  Layer.provide(Handlers),
  Layer.provide(RpcServer.layerProtocolWorkerRunner),
  Layer.provide(NodeWorkerRunner.layer)
)

NodeRuntime.runMain(Layer.launch(Main))
