/**
 * Where a volatile cluster round trip's time goes: `node bench/cluster-trip.ts [--calls N] [--blocks B]
 * [--runners R] [--only bare,hop,entity,pool]`.
 *
 * Four round trips, each call awaited before the next, in interleaved blocks (a busy moment of the machine
 * weighs on all of them alike), on the same Postgres server, with runners of one worker each (two by
 * default, `--timings fast-failover`, as in `bench/cluster.ts`):
 *
 *   bare     a bare Effect Cluster entity (`bench/cluster-bare.ts`): the handler doubles a number on the
 *            runner's main thread. The floor.
 *   hop      the same bare entity, its handler posting the number to a bare worker thread and answering
 *            with the thread's reply: the least a hop to a worker thread and back can cost.
 *   entity   effect-parallel's own entity (`RunVolatile`), called straight from a bare cluster client with a
 *            request as the client builds it, on the slots of one runner: the runner's share (decode, the
 *            local pool's hop to a worker thread and back, encode) and the larger message, without the
 *            client's front, codec and balancer.
 *   pool     `WorkerPool.run(Double, x)` on `WorkerPool.layerCluster({ delivery: "volatile" })`: all of it.
 *
 * So `hop - bare` is the hop itself, `entity - hop` what the runner adds to it, `pool - entity` what the
 * client adds. Per call: the median and the 10th/90th percentiles over every call of every block; the CPU
 * time of each process's main thread and of its other threads (`/proc`, per call, over the blocks of each
 * kind); for `entity`, the runner's own count of the time in its pool (`ms`) and the worker's (`wk`).
 *
 * Not part of `npm run bench`: a diagnostic (Linux: it reads `/proc`). Run it under the shared lock on a
 * shared machine.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Context, Effect, Layer, Result } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import * as EntityId from "effect/cluster/EntityId"
import * as Sharding from "effect/cluster/Sharding"
import { WorkerPool } from "../src/index.ts"
import { postgresLayer, shardingConfigOf } from "../src/internal/cluster/options.ts"
import { type ReplyMessage, slotIds, TaskEntity } from "../src/internal/cluster/protocol.ts"
import { clientLayer } from "../src/internal/cluster/transport.ts"
import { freshDatabase, startProcess, startRunner } from "../test/cluster/setup.ts"
import { bareClient } from "./cluster-bare.ts"
import { Double } from "./tasks.ts"

const argv = process.argv.slice(2)
const flag = (name: string, d: number) => {
  const k = argv.indexOf(name)
  return k >= 0 ? Number(argv[k + 1]) : d
}
const CALLS = flag("--calls", 500)
const BLOCKS = flag("--blocks", 6)
const only = (() => {
  const k = argv.indexOf("--only")
  return k >= 0 ? argv[k + 1]!.split(",") : ["bare", "hop", "entity", "pool"]
})()

const pct = (xs: ReadonlyArray<number>, p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!
}
const fmt = (xs: ReadonlyArray<number>) =>
  xs.length === 0 || xs[0] === undefined ? "n/a" : `median ${pct(xs, 0.5).toFixed(3)} (p10 ${pct(xs, 0.1).toFixed(3)}, p90 ${pct(xs, 0.9).toFixed(3)})`

const program = Effect.gen(function*() {
  const load0 = os.loadavg()
  const db = yield* freshDatabase
  const runners: Array<number> = []
  for (let r = 0; r < flag("--runners", 2); r++) runners.push((yield* startRunner(db, { size: 1 })).pid)
  const bareDb = yield* freshDatabase
  const bareRunner = yield* startProcess([fileURLToPath(new URL("./cluster-bare.ts", import.meta.url)), "--postgres", bareDb, "--port", "{port}"], "bare runner ready")
  const bare = yield* bareClient(bareDb)
  yield* bare.ready

  // effect-parallel's entity, from a bare cluster client (no front, no codec, no balancer)
  const context = yield* Layer.build(
    clientLayer(Result.getOrThrow(shardingConfigOf("fast-failover"))).pipe(
      Layer.provide(postgresLayer(db))
    )
  )
  const make = yield* Effect.provideContext(TaskEntity.client, context)
  const sharding = Context.get(context, Sharding.Sharding)
  const slots = slotIds(300, (id) => {
    const s = sharding.getShardId(EntityId.make(id), TaskEntity.getShardGroup(EntityId.make(id)))
    return `${s.group}/${s.id}`
  })
  const all = slots.map((id) => make(id))
  const owners = yield* Effect.forEach(all, (c) => c.Ping(), { concurrency: "unbounded" })
  // the slots of one runner: a sequential round trip on one warm runner process, as the client's does
  const clients = all.filter((_, k) => owners[k]!.address === owners[0]!.address)
  const module = Double.module
  let sequence = 0
  let next = 0
  const entityCall = (x: number) =>
    clients[next++ % clients.length]!.RunVolatile({
      id: `trip/${++sequence}`,
      module,
      name: Double.name,
      items: [x],
      index: 0,
      seed: 1,
      attempt: 1,
      timeoutMillis: null,
      mode: "single"
    }) as Effect.Effect<ReplyMessage, unknown>

  const pool = yield* Layer.build(WorkerPool.layerCluster({ postgres: db, delivery: "volatile", size: 4, timings: "fast-failover" }))
  const poolCall = (x: number) => Effect.provideContext(WorkerPool.run(Double, x), pool)
  yield* Effect.provideContext(WorkerPool.awaitReady, pool)

  const times: Record<string, Array<number>> = { bare: [], hop: [], entity: [], pool: [] }
  // CPU time (ms) of each process's main thread and of its other threads, summed over the blocks of a kind
  const cpu: Record<string, Record<string, number>> = { bare: {}, hop: {}, entity: {}, pool: {} }
  const procs = { client: process.pid, runners, bare: bareRunner.pid }
  const sample = () => {
    const out: Record<string, number> = {}
    const add = (key: string, ms: number) => out[key] = (out[key] ?? 0) + ms
    const tick = 10 // ms per clock tick (USER_HZ 100)
    const read = (who: string, pid: number) => {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").slice(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").lastIndexOf(")") + 2).split(" ")
        const ms = (Number(f[11]) + Number(f[12])) * tick
        add(`${who} ${Number(tid) === pid ? "main" : "other threads"}`, ms)
      }
    }
    read("client", procs.client)
    procs.runners.forEach((r, k) => read(`runner ${k + 1}`, r))
    read("bare runner", procs.bare)
    return out
  }
  const inRunner: Array<number> = []
  const inWorker: Array<number> = []
  const kinds = {
    bare: (x: number) => bare.volatile(x),
    hop: (x: number) => bare.hop(x),
    entity: (x: number) =>
      Effect.map(entityCall(x), (r) => {
        inRunner.push(r.r.ms)
        if (r.r.wk !== undefined) inWorker.push(r.r.wk)
        return r
      }),
    pool: poolCall
  } as Record<string, (x: number) => Effect.Effect<unknown, unknown>>
  // warm up every path
  for (const k of only) for (let i = 0; i < 200; i++) yield* kinds[k]!(i)
  // what the processes cost with no calls at all (shard-lock refreshes, storage polls, health checks)
  const i0 = sample()
  const idleStart = performance.now()
  yield* Effect.sleep("3 seconds")
  const i1 = sample()
  const idleSeconds = (performance.now() - idleStart) / 1000
  console.log(`idle CPU ms per second: ${Object.keys(i1).map((w) => `${w} ${((i1[w]! - (i0[w] ?? 0)) / idleSeconds).toFixed(1)}`).join(", ")}`)
  for (let b = 0; b < BLOCKS; b++) {
    const order = b % 2 === 0 ? only : [...only].reverse()
    for (const k of order) {
      const call = kinds[k]!
      const ts = times[k]!
      const c0 = sample()
      for (let i = 0; i < CALLS; i++) {
        const t0 = performance.now()
        yield* call(i)
        ts.push(performance.now() - t0)
      }
      const c1 = sample()
      for (const key of Object.keys(c1)) cpu[k]![key] = (cpu[k]![key] ?? 0) + c1[key]! - (c0[key] ?? 0)
    }
  }
  console.log(`load ${load0.map((x) => x.toFixed(2)).join(" / ")} -> ${os.loadavg().map((x) => x.toFixed(2)).join(" / ")}; ${BLOCKS} blocks of ${CALLS} calls, ms per call`)
  for (const k of only) console.log(`${k.padEnd(7)} ${fmt(times[k]!)}  mean ${(times[k]!.reduce((a, b) => a + b, 0) / times[k]!.length).toFixed(3)}`)
  for (const k of only) {
    const n = times[k]!.length
    console.log(`${k.padEnd(7)} CPU ms per call: ${Object.entries(cpu[k]!).filter(([, v]) => v > 0).map(([w, v]) => `${w} ${(v / n).toFixed(3)}`).join(", ")}`)
  }
  if (only.includes("entity")) {
    console.log(`entity: in the runner's pool ${fmt(inRunner)}; in the worker ${fmt(inWorker)}`)
  }
}).pipe(Effect.scoped)

NodeRuntime.runMain(program)
