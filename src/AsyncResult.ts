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
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import { durationMillis } from "./internal/options.ts"
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
  if (options?.timeout === undefined) return Fiber.join(self.fiber)
  const checked = durationMillis("timeout", options.timeout)
  if (Result.isFailure(checked)) return Effect.fail(new WorkerError({ reason: checked.failure }))
  const millis = checked.success
  return Effect.flatMap(
    Effect.timeoutOption(Fiber.await(self.fiber), millis),
    (exit): Effect.Effect<A, E | WorkerError> =>
      Option.isSome(exit)
        ? exit.value
        : Effect.fail(new WorkerError({ reason: new GetTimeout({ taskName: self.taskName, timeoutMillis: millis }) }))
  )
}

/**
 * Waits until the task has finished, however it ended, for at most `timeout`; tells whether it has
 * (Python's `AsyncResult.wait`). Never fails and never cancels the task.
 *
 * @category getters
 * @since 0.1.0
 */
export const wait = <A, E>(
  self: AsyncResult<A, E>,
  options?: { readonly timeout?: Duration.Input | undefined }
): Effect.Effect<boolean> => {
  if (options?.timeout === undefined) return Effect.as(Fiber.await(self.fiber), true)
  const d = Duration.fromInput(options.timeout)
  const millis = d._tag === "None" ? 0 : Duration.toMillis(d.value)
  return Effect.map(Effect.timeoutOption(Fiber.await(self.fiber), millis), Option.isSome)
}

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
export const cancel = <A, E>(self: AsyncResult<A, E>): Effect.Effect<void> => Effect.asVoid(Fiber.interrupt(self.fiber))
