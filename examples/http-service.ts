/**
 * A small HTTP service whose handlers send CPU work through a worker pool, with typed errors mapped to
 * HTTP responses (`@effect/platform-node` and `effect/http`).
 *
 *   POST /primes          {"from":0,"to":100000}       -> 200 {"from":0,"to":100000,"primes":9592}
 *                         a range the task refuses     -> 400 {"error":"BadRange","reason":"..."}  (the task's declared error)
 *                         a body that is not a range   -> 400 {"error":"BadRequest","message":"..."}
 *                         the pool cannot run it       -> 503 {"error":"WorkerError","reason":"WorkerCrashed",...}
 *   POST /primes/stream   NDJSON lines of ranges       -> 200 NDJSON, one line per range in order (streamed):
 *                                                          {"index":0,"from":...,"primes":...} or {"index":1,"error":"BadRange",...}
 *
 * `/primes/stream` reads the request body as a `Stream` of lines and pipes it through the pool with
 * `WorkerPool.mapStream(CountPrimes, { mode: "result" })`: ranges go to the workers in chunks as they
 * arrive, results go back out as soon as they are ready, and a client that hangs up interrupts the work
 * in the workers. The task module (`http-service.tasks.ts`) imports no `@effect/platform-node`: workers
 * import it, and stay light.
 *
 *   node examples/http-service.ts            # serves on http://127.0.0.1:8080 until Ctrl-C; --port=N
 *   node examples/http-service.ts --small    # serves on a free port, calls itself over HTTP, checks, exits (CI)
 */
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Context, Effect, Layer, Schema, Stream } from "effect"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import { createServer } from "node:http"
import { type WorkerError, WorkerPool } from "../src/index.ts"
import { countPrimes, CountPrimes, Range } from "./http-service.tasks.ts"

const json = (body: unknown, status: number) => HttpServerResponse.jsonUnsafe(body, { status })

/** The pool's failures as responses: the service, not the request, is at fault. */
const unavailable = (e: WorkerError.WorkerError) =>
  json({ error: "WorkerError", reason: e.reason._tag, message: e.message }, 503)

/** POST /primes: one range, one task; each typed error its own status. */
const primes = Effect.gen(function*() {
  const range = yield* HttpServerRequest.schemaBodyJson(Range)
  const result = yield* CountPrimes(range)
  return json(result, 200)
}).pipe(
  Effect.catchTags({
    BadRange: (e) => Effect.succeed(json({ error: "BadRange", from: e.from, to: e.to, reason: e.reason }, 400)),
    SchemaError: (e) => Effect.succeed(json({ error: "BadRequest", message: e.message }, 400)),
    HttpServerError: (e) => Effect.succeed(json({ error: "BadRequest", message: e.message }, 400)),
    WorkerError: (e) => Effect.succeed(unavailable(e))
  })
)

/** A request line that is not a range ends the stream with one error line (the status, 200, is already sent). */
class BadLine extends Schema.TaggedError<BadLine>()("BadLine", { index: Schema.Number, message: Schema.String }) {}

const encoder = new TextEncoder()
const line = (value: unknown) => encoder.encode(`${JSON.stringify(value)}\n`)

/** POST /primes/stream: NDJSON ranges in, NDJSON results out, through the pool as a stream. */
const primesStream = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const pool = yield* WorkerPool.WorkerPool
  const decode = Schema.decodeUnknownEffect(Schema.fromJsonString(Range))
  const ranges = request.stream.pipe(
    Stream.decodeText,
    Stream.splitLines,
    Stream.filter((l) => l.trim() !== ""),
    Stream.zipWithIndex,
    Stream.mapEffect(([text, index]) => Effect.mapError(decode(text), (e) => new BadLine({ index, message: e.message })))
  )
  const body = ranges.pipe(
    WorkerPool.mapStream(CountPrimes, { mode: "result" }),
    Stream.map((r) =>
      r._tag === "Success"
        ? line({ index: r.index, ...r.value })
        : r._tag === "Failure"
        ? line({ index: r.index, error: r.error._tag, ...(r.error._tag === "BadRange" ? { reason: r.error.reason } : { message: r.error.message }) })
        : line({ index: r.index, error: "Defect" })
    ),
    Stream.catch((e) => Stream.make(line(e._tag === "BadLine" ? { index: e.index, error: "BadLine", message: e.message } : { error: e._tag, message: e.message }))),
    Stream.provideService(WorkerPool.WorkerPool, pool)
  )
  return HttpServerResponse.stream(body, { contentType: "application/x-ndjson" })
})

const Routes = Layer.mergeAll(
  HttpRouter.add("POST", "/primes", primes),
  HttpRouter.add("POST", "/primes/stream", primesStream),
  HttpRouter.add("GET", "/health", HttpServerResponse.text("ok"))
)

/**
 * The service on `port` (0: a free one), with its pool of worker threads, in the current scope; returns
 * its base URL. The program below and `test/http-service.test.ts` both start it this way.
 */
export const start = (port: number, pool?: WorkerPool.PoolOptions) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      HttpRouter.serve(Routes, { disableLogger: true, disableListenLog: true }).pipe(
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" })),
        Layer.provide(WorkerPool.layer({ size: 2, preload: [CountPrimes.module], ...pool }))
      )
    )
    return HttpServer.formatAddress(Context.get(context, HttpServer.HttpServer).address)
  })

/** Calls the service over real HTTP and checks every kind of answer. */
const selfCheck = (url: string) =>
  Effect.gen(function*() {
    const post = (path: string, body: string) =>
      Effect.promise(async () => {
        const response = await fetch(`${url}${path}`, { method: "POST", body })
        return { status: response.status, text: await response.text() }
      })
    const ok = yield* post("/primes", JSON.stringify({ from: 0, to: 100_000 }))
    const refused = yield* post("/primes", JSON.stringify({ from: 10, to: 5 }))
    const garbage = yield* post("/primes", "{\"from\": \"zero\"}")
    const ranges = [[0, 1000], [1000, 2000], [-1, 3], [2000, 3000]]
    const streamed = yield* post("/primes/stream", ranges.map(([from, to]) => JSON.stringify({ from, to })).join("\n"))
    console.log(`POST /primes {from: 0, to: 100000}  -> ${ok.status} ${ok.text}`)
    console.log(`POST /primes {from: 10, to: 5}      -> ${refused.status} ${refused.text}`)
    console.log(`POST /primes {from: "zero"}         -> ${garbage.status} ${garbage.text.slice(0, 80)}…`)
    console.log(`POST /primes/stream (${ranges.length} lines)    -> ${streamed.status}\n  ${streamed.text.trimEnd().split("\n").join("\n  ")}`)
    const lines = streamed.text.trimEnd().split("\n").map((l) => JSON.parse(l) as { index: number; primes?: number; error?: string })
    const expected = ranges.map(([from, to], index) => from! < 0 ? { index, error: "BadRange" } : { index, primes: countPrimes(from!, to!) })
    const good = ok.status === 200 && JSON.parse(ok.text).primes === 9592 && refused.status === 400 && garbage.status === 400 &&
      streamed.status === 200 && lines.length === ranges.length &&
      lines.every((l, i) => l.index === i && l.primes === expected[i]!.primes && l.error === expected[i]!.error)
    if (!good) return yield* Effect.die(new Error("the service did not answer as it should"))
    console.log("\nEvery answer is the expected one.")
  })

const small = process.argv.includes("--small") || process.env.SMALL === "1"
const port = Number(process.argv.find((a) => a.startsWith("--port="))?.slice(7) ?? (small ? 0 : 8080))

if (import.meta.main) {
  NodeRuntime.runMain(Effect.scoped(Effect.gen(function*() {
    const url = yield* start(port)
    console.log(`listening on ${url}`)
    if (small) return yield* selfCheck(url)
    console.log(`try: curl -s -X POST ${url}/primes -d '{"from":0,"to":1000000}'`)
    return yield* Effect.never
  })))
}
