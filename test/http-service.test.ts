/**
 * The HTTP service example (`examples/http-service.ts`) over real HTTP: started on a free port, called
 * with Node's `fetch`. Typed errors become statuses: the task's declared `BadRange` 400, a body that is not
 * a range 400, a `WorkerError` 503; the NDJSON endpoint streams one line per range through the pool.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { start } from "../examples/http-service.ts"
import { countPrimes } from "../examples/http-service.tasks.ts"

const post = (url: string, body: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, { method: "POST", body })
    return { status: response.status, type: response.headers.get("content-type"), text: await response.text() }
  })

describe("examples/http-service.ts over HTTP", () => {
  it.live("answers a range with its count, and maps the task's typed error and a bad body to 400", () =>
    Effect.gen(function*() {
      const url = yield* start(0)
      const ok = yield* post(`${url}/primes`, JSON.stringify({ from: 0, to: 100_000 }))
      assert.strictEqual(ok.status, 200)
      assert.deepStrictEqual(JSON.parse(ok.text), { from: 0, to: 100_000, primes: 9592 })
      const refused = yield* post(`${url}/primes`, JSON.stringify({ from: 0, to: 10_000_000 }))
      assert.strictEqual(refused.status, 400)
      assert.strictEqual(JSON.parse(refused.text).error, "BadRange")
      const garbage = yield* post(`${url}/primes`, "not json")
      assert.strictEqual(garbage.status, 400)
      assert.strictEqual(JSON.parse(garbage.text).error, "BadRequest")
    }))

  it.live("streams NDJSON results through the pool, one line per range, in order; a bad line ends it with an error line", () =>
    Effect.gen(function*() {
      const url = yield* start(0)
      const ranges = Array.from({ length: 40 }, (_, i) => ({ from: i * 5000, to: (i + 1) * 5000 }))
      const body = [...ranges, { from: -5, to: 0 }].map((r) => JSON.stringify(r)).join("\n") + "\n"
      const streamed = yield* post(`${url}/primes/stream`, body)
      assert.strictEqual(streamed.status, 200)
      assert.strictEqual(streamed.type, "application/x-ndjson")
      const lines = streamed.text.trimEnd().split("\n").map((l) => JSON.parse(l))
      assert.deepStrictEqual(lines.slice(0, 40), ranges.map((r, index) => ({ index, ...r, primes: countPrimes(r.from, r.to) })))
      assert.deepStrictEqual(lines[40], { index: 40, error: "BadRange", reason: "from must not be negative" })
      const bad = yield* post(`${url}/primes/stream`, `${JSON.stringify(ranges[0])}\n{"from":1}\n`)
      const badLines = bad.text.trimEnd().split("\n").map((l) => JSON.parse(l))
      assert.strictEqual(badLines.at(-1).error, "BadLine")
      assert.strictEqual(badLines.at(-1).index, 1)
    }))

  it.live("a pool that cannot run the task answers 503 with the WorkerError's reason", () =>
    Effect.gen(function*() {
      const url = yield* start(0, { execArgv: ["--no-such-node-flag"] })
      const r = yield* post(`${url}/primes`, JSON.stringify({ from: 0, to: 10 }))
      assert.strictEqual(r.status, 503)
      const body = JSON.parse(r.text)
      assert.strictEqual(body.error, "WorkerError")
      assert.strictEqual(body.reason, "SpawnFailed")
    }))
})
