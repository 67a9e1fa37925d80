/**
 * Effect Cluster over TCP sockets with Postgres storage: `NodeClusterSocket.layer({ storage: "sql" })`,
 * assembled from the same parts, with one difference: every socket between clients and runners has
 * Nagle's algorithm off (`noDelay`), as the Postgres client's sockets already have.
 *
 * Why: a reply larger than a TCP segment (a chunk of rows as bytes: hundreds of KB) ends in a short
 * segment, which Nagle's algorithm holds back until the receiver acknowledges the previous ones, and the
 * receiver delays its acknowledgement (up to 200 ms on Linux). The last message of a Mandelbrot batch
 * took 220 ms for 3 ms of work in about half the runs, and the whole image 0.6 s instead of 0.45 s.
 * Effect's layer offers no option for it (4.1.5), hence this copy of its assembly.
 *
 * @internal
 */
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as NodeSocketServer from "@effect/platform-node/NodeSocketServer"
import * as RunnerHealth from "effect/cluster/RunnerHealth"
import * as Runners from "effect/cluster/Runners"
import * as ShardingConfig from "effect/cluster/ShardingConfig"
import * as SocketRunner from "effect/cluster/SocketRunner"
import * as SqlMessageStorage from "effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "effect/cluster/SqlRunnerStorage"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as RpcClient from "effect/rpc/RpcClient"
import * as RpcSerialization from "effect/rpc/RpcSerialization"
import { Socket } from "effect/socket/Socket"

/** How runners and clients dial runners: `NodeClusterSocket.layerClientProtocol`, with `noDelay`. */
const clientProtocol = Layer.effect(Runners.RpcClientProtocol)(Effect.gen(function*() {
  const serialization = yield* RpcSerialization.RpcSerialization
  return {
    codecFor: serialization.codecFor,
    make: Effect.fnUntraced(function*(address) {
      const socket = yield* NodeSocket.makeNet({ openTimeout: 1000, timeout: 5500, host: address.host, port: address.port, noDelay: true })
      return yield* RpcClient.makeProtocolSocket().pipe(
        Effect.provideService(Socket, socket),
        Effect.provideService(RpcSerialization.RpcSerialization, serialization)
      )
    }, Effect.orDie)
  }
}))

/** A runner's socket server: `NodeClusterSocket.layerSocketServer`, its connections with `noDelay`. */
const socketServer = Layer.unwrap(Effect.gen(function*() {
  const config = yield* ShardingConfig.ShardingConfig
  const listen = Option.orElse(config.runnerListenAddress, () => config.runnerAddress)
  if (Option.isNone(listen)) return yield* Effect.die("effect-parallel: a runner needs runnerAddress or runnerListenAddress")
  return NodeSocketServer.layer({ host: listen.value.host, port: listen.value.port, noDelay: true })
}))

type Config = Partial<ShardingConfig.ShardingConfig["Service"]>

/** Storage in the SqlClient's Postgres, the configuration and the serialization, under a runner or a client. */
const withStorage = <A, E, R>(sharding: Layer.Layer<A, E, R>, shardingConfig: Config) =>
  sharding.pipe(
    Layer.provideMerge(SqlMessageStorage.layer.pipe(Layer.provide(NodeCrypto.layerDigest))),
    Layer.provide(Layer.orDie(SqlRunnerStorage.layer)),
    Layer.provide(ShardingConfig.layerFromEnv(shardingConfig)),
    Layer.provide(RpcSerialization.layerSchemaBinary({ maxFrameSize: undefined }))
  )

/** Sharding for a runner: it serves its shards on its socket server and checks other runners' health. */
export const runnerLayer = (shardingConfig: Config) =>
  withStorage(
    Layer.provide(SocketRunner.layer, [socketServer, clientProtocol]).pipe(
      Layer.provide(RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc), Layer.provide(clientProtocol)))
    ),
    shardingConfig
  )

/** Sharding for a client: it sends messages to the runners and holds no shard. */
export const clientLayer = (shardingConfig: Config) => withStorage(Layer.provide(SocketRunner.layerClientOnly, clientProtocol), shardingConfig)
