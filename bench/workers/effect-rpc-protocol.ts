// The Effect 4 RPC contract shared by the parent adapter and the RPC worker. Side-effect free.
import { Schema } from "effect"
import { Rpc, RpcGroup } from "effect/rpc"
import * as Transferable from "effect/workers/Transferable"

/** Structured clone with an empty transfer list: copied (or shared, for a SharedArrayBuffer view). */
const F64Clone = Transferable.schema(Schema.instanceOf(Float64Array), () => [])
/** Structured clone with the buffer in the transfer list: moved. */
const F64Move = Transferable.schema(Schema.instanceOf(Float64Array), (a) => [a.buffer])

export const Row = Schema.Struct({ y: Schema.Number, width: Schema.Number, height: Schema.Number, maxIter: Schema.Number })

export class BenchRpcs extends RpcGroup.make(
  Rpc.make("Double", { payload: Schema.Number, success: Schema.Number }),
  Rpc.make("MandelbrotRow", { payload: Row, success: Schema.Number }),
  Rpc.make("SumCopy", { payload: F64Clone, success: Schema.Number }),
  Rpc.make("SumMove", { payload: F64Move, success: Schema.Number })
) {}
