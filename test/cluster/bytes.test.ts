/**
 * Bytes as bytes: typed arrays, `Uint8Array` and `ArrayBuffer`s in payloads and results cross the cluster
 * as base64 inside the stored JSON message, never as arrays of numbers; they arrive as themselves. The
 * stored message and reply are read back from Postgres to prove the form on the wire.
 */
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import { WorkerPool } from "../../src/index.ts"
import { Bytes } from "../fixtures/cluster-tasks.ts"
import { freshDatabase, needsPostgres, postgresAvailable, startRunner } from "./setup.ts"

const base64 = (view: ArrayBufferView | ArrayBuffer) =>
  view instanceof ArrayBuffer
    ? Buffer.from(view).toString("base64")
    : Buffer.from(view.buffer as ArrayBuffer, view.byteOffset, view.byteLength).toString("base64")

describe.skipIf(!postgresAvailable)(needsPostgres("cluster: bytes as bytes"), () => {
  it.live("typed arrays and bytes are stored as base64 and arrive as themselves, in payloads and results", () =>
    Effect.gen(function*() {
      const postgres = yield* freshDatabase
      yield* startRunner(postgres, { size: 1 })
      const f32 = new Float32Array(1200).map((_, i) => Math.sin(i) * 1000)
      const payload = {
        f32,
        f64: new Float64Array([Math.PI, -0.5, 1e300]),
        i16: new Int16Array([-32768, 7, 32767]),
        big: new BigInt64Array([-(2n ** 60n), 3n]),
        u8: new Uint8Array([0, 1, 254, 255]),
        raw: new Uint8Array([10, 20, 30]).buffer
      }
      const result = yield* Bytes(payload).pipe(Effect.provide(WorkerPool.layerCluster({ postgres, timings: "fast-failover" })))

      assert.instanceOf(result.f32, Float32Array)
      assert.deepStrictEqual(result.f32, f32.map((x) => x * 2))
      assert.deepStrictEqual(result.f64, new Float64Array([2 * Math.PI, -1, 2e300]))
      assert.deepStrictEqual(result.i16, new Int16Array([-65536, 14, 65534]))
      assert.deepStrictEqual(result.big, new BigInt64Array([-(2n ** 61n), 6n]))
      assert.deepStrictEqual(result.u8, new Uint8Array([255, 254, 1, 0]))
      assert.deepStrictEqual(new Uint8Array(result.raw), new Uint8Array([30, 20, 10]))

      // what Effect Cluster stored: the message and its reply, as JSON text
      const [message, reply, storage] = yield* Effect.gen(function*() {
        const sql = yield* SqlClient
        const m = yield* sql<{ id: string; payload: string }>`
          SELECT id, payload FROM cluster_messages WHERE tag = 'Run' ORDER BY id DESC LIMIT 1`
        const r = yield* sql<{ payload: string }>`SELECT payload FROM cluster_replies WHERE request_id = ${m[0]!.id}`
        const s = yield* sql<{ t: string; storage: string }>`
          SELECT attrelid::regclass::text AS t, attstorage AS storage FROM pg_attribute
          WHERE attrelid IN ('cluster_messages'::regclass, 'cluster_replies'::regclass) AND attname = 'payload' ORDER BY 1`
        return [m[0]!.payload, r[0]!.payload, s] as const
      }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(postgres) })))

      // the runner told Postgres not to try compressing payloads (base64 hardly compresses; trying cost as much as storing)
      assert.deepStrictEqual(storage.map((c) => `${c.t}: ${c.storage}`), ["cluster_messages: e", "cluster_replies: e"])

      for (const [text, values] of [[message, payload], [reply, result]] as const) {
        assert.include(text, base64(values.f32), "the Float32Array's bytes, as base64")
        assert.include(text, base64(values.f64))
        assert.include(text, base64(values.big))
        assert.include(text, base64(values.u8))
        assert.include(text, base64(values.raw))
        // no array of numbers: the first values of the row would be spelled out
        assert.notInclude(text, String(values.f32[1]))
        // 1,200 floats as base64 is 6.4 KB; as decimal text it would be about 20 KB
        assert.isBelow(text.length, 8_000)
      }
    }).pipe(Effect.scoped), 60_000)
})
