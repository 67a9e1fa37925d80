/**
 * What the public modules load on first use rather than at import: the pool machinery (`machinery.ts`),
 * the batches (`parent/batch.ts`), `effect/Stream`, `effect/Queue` and `effect/Fiber` (`stream`, `queue`,
 * `fiber`), and each shared object's parent side, `Speedup`'s file writer and `effect/Console`
 * (`lazyImport`). Importing a module costs Node about a hundred microseconds for each file it loads (an
 * effect module with its own files, 0.6–1.2 ms), and a worker imports `effect-parallel` with every task
 * module that uses it: the package's import must cost only what defining tasks needs (measured on the built
 * package: the barrel went from 66–71 ms to 36–45 ms on top of `effect/Effect` and `effect/Schema` with
 * these, then to ~15 ms bundled, see scripts/build.mjs and docs/performance-notes.md).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { createRequire } from "node:module"

/** `f` run with a module imported the first time (later calls take no extra step). */
const lazily = <M>(load: () => Promise<M>) => {
  let loaded: M | undefined
  return <A, E, R>(f: (m: M) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    loaded !== undefined ? f(loaded) : Effect.flatMap(Effect.promise(load), (m) => {
      loaded = m
      return f(m)
    })
}

/** The pool machinery: what building a pool needs (the front, the local executor, the backends). */
export const withMachinery = lazily(() => import("./machinery.ts"))

/**
 * Batches (`map`, `imap`, `mapStream`), with `effect/Stream`: loaded by the first batch, not by building a
 * pool, so that a pool's workers start without waiting for them.
 */
export const withBatches = lazily(() => import("./parent/batch.ts"))

/**
 * A module imported the first time the effect runs (later runs take no extra step): for parts of a public
 * module that only an effect needs, such as the parent side of a shared object (`make`).
 */
export const lazyImport = <M>(load: () => Promise<M>): Effect.Effect<M> => {
  const withModule = lazily(load)
  return Effect.suspend(() => withModule(Effect.succeed))
}

const require = createRequire(import.meta.url)

let streamModule: typeof import("effect/Stream") | undefined

/**
 * `effect/Stream`, loaded the first time a function that returns a stream is called. Synchronously: those
 * functions return a `Stream` at once. `require` of an ES module (Node ≥ 22.12) gives the same module
 * instance as `import` does, so streams made here are the program's own.
 */
export const stream = (): typeof import("effect/Stream") => (streamModule ??= require("effect/Stream"))

let queueModule: typeof import("effect/Queue") | undefined

/** `effect/Queue`, loaded the same way (for code that builds a stream on a queue). */
export const queue = (): typeof import("effect/Queue") => (queueModule ??= require("effect/Queue"))

let fiberModule: typeof import("effect/Fiber") | undefined

/** `effect/Fiber`, loaded the same way (for `AsyncResult`'s `get`, `wait`, `exit` and `cancel`). */
export const fiber = (): typeof import("effect/Fiber") => (fiberModule ??= require("effect/Fiber"))
