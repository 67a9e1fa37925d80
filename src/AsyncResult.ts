/**
 * A handle to a task submitted with `WorkerPool.submit`: Python's `AsyncResult` / `Future`.
 *
 * The task runs whether or not anyone waits. `get` waits for its result, optionally with a timeout that
 * gives up waiting without cancelling the task (the error says so); `cancel` interrupts it and waits
 * until it has really stopped. The handle belongs to the scope `submit` ran in: closing that scope
 * interrupts a task still running.
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type * as Stream from "effect/Stream"
import { fiber, queue as queueModule, stream } from "./internal/lazy.ts"
import { type Checked, durationMillis, invalid, orFail } from "./internal/options.ts"
import { GetTimeout, WorkerError } from "./WorkerError.ts"

const TypeId = "~effect-parallel/AsyncResult" as const

/**
 * @category models
 * @since 0.1.0
 */
export interface AsyncResult<A, E> {
  readonly [TypeId]: typeof TypeId
  /** Name of the submitted task. */
  readonly taskName: string
  /** The fiber waiting for the task's result. */
  readonly fiber: Fiber.Fiber<A, E>
}

/** @internal */
export const makeAsyncResult = <A, E>(taskName: string, fiber: Fiber.Fiber<A, E>): AsyncResult<A, E> => ({
  [TypeId]: TypeId,
  taskName,
  fiber
})

/**
 * Tells whether a value is an {@link AsyncResult}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isAsyncResult = (u: unknown): u is AsyncResult<unknown, unknown> =>
  typeof u === "object" && u !== null && (u as Record<string, unknown>)[TypeId] === TypeId

/**
 * Waits for the task's result (Python's `AsyncResult.get(timeout)`).
 *
 * **Details**
 *
 * With a `timeout`, gives up after that long with a `WorkerError` whose reason is `GetTimeout`. The task is
 * NOT cancelled: it keeps running and a later `get` can still return its result. Use {@link cancel} to
 * stop it. A task that was cancelled ends `get` with an interruption, as `Fiber.join` does.
 *
 * **Gotchas**
 *
 * - The timeout is wall-clock time from the call to `get`, including the time the task waits for a worker:
 *   on a pool that has just been created, that is the workers' start-up and the import of the task's module
 *   in each (a worker thread importing `effect` and `@effect/platform-node` takes about 0.4 s on a small
 *   machine). A 100 ms task can time out at 1 s on a cold pool. Start the pool first: the pool option
 *   `preload: [Task.module]` makes every worker import the module before it is ready, and
 *   `yield* WorkerPool.awaitReady` waits for that; keep heavy imports out of task modules.
 *   `WorkerPool.run`'s `timeout` is different: it counts from the moment the task starts in a worker.
 *
 * **Example**
 *
 * ```ts
 * const handle = yield* WorkerPool.submit(Render, { frame: 7 })
 * const image = yield* AsyncResult.get(handle, { timeout: "2 seconds" })
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const get = <A, E>(
  self: AsyncResult<A, E>,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<A, E | WorkerError> => {
  if (options?.timeout === undefined) return fiber().join(self.fiber)
  const checked = durationMillis("timeout", options.timeout)
  if (Result.isFailure(checked)) return Effect.fail(new WorkerError({ reason: checked.failure }))
  const millis = checked.success
  return Effect.flatMap(
    Effect.timeoutOption(fiber().await(self.fiber), millis),
    (exit): Effect.Effect<A, E | WorkerError> =>
      Option.isSome(exit)
        ? exit.value
        : Effect.fail(new WorkerError({ reason: new GetTimeout({ taskName: self.taskName, timeoutMillis: millis }) }))
  )
}

/**
 * When {@link wait} over several handles returns (`concurrent.futures`' `return_when`):
 *
 * - `"first-completed"`: as soon as any handle has finished, however it ended;
 * - `"first-exception"`: as soon as any handle has failed (a typed error, a `WorkerError` or a defect; a
 *   cancelled task is not an exception), or when all have finished;
 * - `"all-completed"` (default): when every handle has finished.
 *
 * @category models
 * @since 0.3.0
 */
export type ReturnWhen = "first-completed" | "first-exception" | "all-completed"

/**
 * What {@link wait} over several handles returns: the handles that had finished when it returned, and
 * those still running, each in the order they were given.
 *
 * @category models
 * @since 0.3.0
 */
export interface WaitResult<H> {
  readonly done: Array<H>
  readonly notDone: Array<H>
}

/**
 * Waits for one handle or for several (Python's `AsyncResult.wait`, `concurrent.futures.wait`). Never
 * fails because of a task, and never cancels one.
 *
 * **Details**
 *
 * - One handle: waits until its task has finished, however it ended, for at most `timeout`; tells whether
 *   it has.
 * - Several handles: waits until `returnWhen` (`"all-completed"` by default, `"first-completed"`,
 *   `"first-exception"`) is met or `timeout` has passed, and returns `{ done, notDone }`. Read the finished
 *   ones with {@link get} or {@link exit} (they return at once); the others keep running: cancel them with
 *   {@link cancel} if they are no longer wanted. A handle given twice counts once.
 * - Waiting is an interruption point (R1): interrupting it leaves every task running.
 * - A `timeout` that is not a duration fails with `WorkerError` reason `InvalidOption` (several handles).
 *
 * **Example** (The first of two renders, then cancel the other)
 *
 * ```ts
 * const a = yield* WorkerPool.submit(Render, { quality: "fast" })
 * const b = yield* WorkerPool.submit(Render, { quality: "best" })
 * const { done, notDone } = yield* AsyncResult.wait([a, b], { returnWhen: "first-completed" })
 * yield* Effect.forEach(notDone, AsyncResult.cancel)
 * const image = yield* AsyncResult.get(done[0]!)
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const wait: {
  <A, E>(self: AsyncResult<A, E>, options?: { readonly timeout?: Duration.Input | undefined }): Effect.Effect<boolean>
  <H extends AsyncResult<any, any>>(
    handles: Iterable<H>,
    options?: { readonly returnWhen?: ReturnWhen | undefined; readonly timeout?: Duration.Input | undefined }
  ): Effect.Effect<WaitResult<H>, WorkerError>
} = ((
  self: AsyncResult<unknown, unknown> | Iterable<AsyncResult<unknown, unknown>>,
  options?: { readonly returnWhen?: ReturnWhen | undefined; readonly timeout?: Duration.Input | undefined }
): Effect.Effect<unknown, WorkerError> => {
  if (!isAsyncResult(self)) return waitMany(self, options)
  if (options?.timeout === undefined) return Effect.as(fiber().await(self.fiber), true)
  const d = Duration.fromInput(options.timeout)
  const millis = d._tag === "None" ? 0 : Duration.toMillis(d.value)
  return Effect.map(Effect.timeoutOption(fiber().await(self.fiber), millis), Option.isSome)
}) as never

/** Distinct handles, in the order given; anything else is a clear error rather than a hang. */
const distinct = <H extends AsyncResult<any, any>>(handles: Iterable<H>): Checked<Array<H>> => {
  const seen = new Set<H>()
  let position = 0
  for (const h of handles) {
    if (!isAsyncResult(h)) {
      return invalid("handles", `item ${position} is not an AsyncResult (from WorkerPool.submit), got ${typeof h}`)
    }
    seen.add(h)
    position++
  }
  return Result.succeed(Array.from(seen))
}

/** An optional timeout of the many-handle getters, in milliseconds. */
const optionalMillis = (timeout: Duration.Input | undefined): Checked<number | undefined> =>
  timeout === undefined ? Result.succeed(undefined) : durationMillis("timeout", timeout)

/** The checked arguments of `wait` over several handles. */
const checkWaitMany = <H extends AsyncResult<any, any>>(
  handles: Iterable<H>,
  options: { readonly returnWhen?: ReturnWhen | undefined; readonly timeout?: Duration.Input | undefined } | undefined
): Checked<{ readonly all: Array<H>; readonly returnWhen: ReturnWhen; readonly millis: number | undefined }> =>
  Result.gen(function*() {
    const all = yield* distinct(handles)
    const returnWhen = options?.returnWhen ?? "all-completed"
    if (returnWhen !== "first-completed" && returnWhen !== "first-exception" && returnWhen !== "all-completed") {
      return yield* invalid(
        "returnWhen",
        `returnWhen must be "first-completed", "first-exception" or "all-completed", got ${String(returnWhen)}`
      )
    }
    const millis = yield* optionalMillis(options?.timeout)
    return { all, returnWhen, millis }
  })

const isException = (exit: Exit.Exit<unknown, unknown>): boolean =>
  Exit.isFailure(exit) && !Exit.hasInterrupts(exit)

const waitMany = <H extends AsyncResult<any, any>>(
  handles: Iterable<H>,
  options: { readonly returnWhen?: ReturnWhen | undefined; readonly timeout?: Duration.Input | undefined } | undefined
): Effect.Effect<WaitResult<H>, WorkerError> =>
  Effect.flatMap(Effect.suspend(() => orFail(checkWaitMany(handles, options))), ({ all, millis, returnWhen }) => {
    const partition = Effect.sync((): WaitResult<H> => {
      const done: Array<H> = []
      const notDone: Array<H> = []
      for (const h of all) (h.fiber.pollUnsafe() === undefined ? notDone : done).push(h)
      return { done, notDone }
    })
    // One observer per fiber, no fiber per handle: resumes once the condition holds.
    const satisfied = Effect.callback<void>((resume) => {
      let finished = 0
      const check = (exit: Exit.Exit<unknown, unknown> | undefined): boolean => {
        if (exit === undefined) return false
        finished++
        return returnWhen === "first-completed" || finished === all.length ||
          (returnWhen === "first-exception" && isException(exit))
      }
      if (all.length === 0) return resume(Effect.void)
      for (const h of all) if (check(h.fiber.pollUnsafe())) return resume(Effect.void)
      const removers: Array<() => void> = []
      let resumed = false
      for (const h of all) {
        if (h.fiber.pollUnsafe() !== undefined) continue
        removers.push(h.fiber.addObserver((exit) => {
          if (!resumed && check(exit)) {
            resumed = true
            resume(Effect.void)
          }
        }))
      }
      return Effect.sync(() => {
        for (const remove of removers) remove()
      })
    })
    const waited = millis === undefined ? satisfied : Effect.ignore(Effect.timeoutOption(satisfied, millis))
    return Effect.andThen(waited, partition)
  })

/**
 * The handles as their tasks finish, in completion order (Python's `concurrent.futures.as_completed`).
 *
 * **Details**
 *
 * The stream emits each handle once it has finished, however it ended: a task's failure is never the
 * stream's failure (read each handle with {@link get} or {@link exit}, which return at once). Handles that
 * had already finished come first. A handle given twice is emitted once. With `timeout`, the stream fails
 * with `WorkerError` reason `GetTimeout` if some tasks are still running when it passes (they are not
 * cancelled). Ending the stream early (`Stream.take`, interruption) leaves every task running.
 *
 * **When to use**
 *
 * To handle results as soon as they are ready while keeping track of which submission each one answers
 * (the handle), unlike `WorkerPool.imapUnordered`, which gives values in completion order and, in its
 * default fail-fast mode, ends at the first failure.
 *
 * **Example**
 *
 * ```ts
 * const handles = yield* Effect.forEach(urls, (url) => WorkerPool.submit(Extract, { url }))
 * yield* AsyncResult.asCompleted(handles).pipe(
 *   Stream.runForEach((h) =>
 *     Effect.flatMap(AsyncResult.exit(h), (exit) => Console.log(h.taskName, Exit.isSuccess(exit) ? "ok" : "failed"))
 *   )
 * )
 * ```
 *
 * @category getters
 * @since 0.3.0
 */
export const asCompleted = <H extends AsyncResult<any, any>>(
  handles: Iterable<H>,
  options?: { readonly timeout?: Duration.Input | undefined }
): Stream.Stream<H, WorkerError> => {
  // effect/Stream and effect/Queue are loaded on first use (importing the package stays light: internal/lazy.ts)
  const Stream = stream()
  const Queue: typeof import("effect/Queue") = queueModule()
  return Stream.unwrap(Effect.map(
    Effect.suspend(() => orFail(Result.all({ all: distinct(handles), millis: optionalMillis(options?.timeout) }))),
    ({ all, millis }) =>
      Stream.callback<H, WorkerError>((queue) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            let left = all.length
            const emit = (h: H) => {
              Queue.offerUnsafe(queue, h)
              if (--left === 0) Queue.endUnsafe(queue)
            }
            if (left === 0) Queue.endUnsafe(queue)
            const removers: Array<() => void> = []
            for (const h of all) if (h.fiber.pollUnsafe() !== undefined) emit(h)
            for (const h of all) {
              if (h.fiber.pollUnsafe() === undefined) removers.push(h.fiber.addObserver(() => emit(h)))
            }
            if (millis !== undefined) {
              const timer = setTimeout(() => {
                const pending = all.filter((h) => h.fiber.pollUnsafe() === undefined)
                if (pending.length === 0) return
                const names = pending.slice(0, 5).map((h) => h.taskName).join(", ")
                const more = pending.length > 5 ? ", …" : ""
                Queue.failCauseUnsafe(queue, Cause.fail(
                  new WorkerError({
                    reason: new GetTimeout({ taskName: `${pending.length} of ${all.length} tasks (${names}${more})`, timeoutMillis: millis })
                  })
                ))
              }, millis)
              removers.push(() => clearTimeout(timer))
            }
            return removers
          }),
          (removers) => Effect.sync(() => {
            for (const remove of removers) remove()
          })
        ), { bufferSize: all.length + 1 })
  ))
}

/**
 * Waits for the task and returns how it ended as an `Exit`, without failing: its value, its typed error, a
 * `WorkerError`, a defect or an interruption (Python's `future.exception()` and `future.result()` in one).
 *
 * @category getters
 * @since 0.3.0
 */
export const exit = <A, E>(self: AsyncResult<A, E>): Effect.Effect<Exit.Exit<A, E>> => fiber().await(self.fiber)

/**
 * Tells whether the task has finished (Python's `ready()`).
 *
 * @category getters
 * @since 0.1.0
 */
export const ready = <A, E>(self: AsyncResult<A, E>): Effect.Effect<boolean> =>
  Effect.sync(() => self.fiber.pollUnsafe() !== undefined)

/**
 * Tells whether the task has finished and succeeded (Python's `successful()`); `false` while it runs.
 *
 * @category getters
 * @since 0.1.0
 */
export const successful = <A, E>(self: AsyncResult<A, E>): Effect.Effect<boolean> =>
  Effect.sync(() => {
    const exit = self.fiber.pollUnsafe()
    return exit !== undefined && Exit.isSuccess(exit)
  })

/**
 * The task's exit if it has finished, without waiting.
 *
 * @category getters
 * @since 0.1.0
 */
export const poll = <A, E>(self: AsyncResult<A, E>): Effect.Effect<Option.Option<Exit.Exit<A, E>>> =>
  Effect.sync(() => Option.fromNullishOr(self.fiber.pollUnsafe()))

/**
 * Cancels the task: interrupts it in its worker and waits until it has really stopped (its worker is
 * killed and replaced if it does not stop within `interruptGrace`). Does nothing if it already finished.
 *
 * @category combinators
 * @since 0.1.0
 */
export const cancel = <A, E>(self: AsyncResult<A, E>): Effect.Effect<void> => Effect.asVoid(fiber().interrupt(self.fiber))
