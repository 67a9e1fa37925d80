/**
 * What a task's handler knows about the run it belongs to: its index in the batch, which attempt this is,
 * and a random stream of its own.
 *
 * `TaskContext` is provided by the worker to every handler. Its `random` depends only on the batch seed and
 * the task's index (rule R7): the same batch with the same seed gives the same numbers on 1 or 16 workers,
 * on threads or processes, in any order. The same generator also backs Effect's `Random` service inside
 * the handler, so `Random.next` is reproducible too.
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { TaskRandom } from "./internal/random.ts"

/**
 * A task's deterministic random generator (xoshiro128** seeded from the batch seed and the task index).
 *
 * @category models
 * @since 0.1.0
 */
export type { TaskRandom } from "./internal/random.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface TaskContextShape {
  /** Position of this task in its batch (`map` input index; 0 for a single `run`). */
  readonly index: number
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number
  /** The batch seed this task's random stream was derived from. */
  readonly seed: number
  /** This task's own random stream: a function of (seed, index) only. */
  readonly random: TaskRandom
  /**
   * Reports the task's own partial progress, a fraction in [0, 1], to its batch's progress display
   * (throttled in the worker; cheap to call often).
   */
  readonly progress: (fraction: number) => Effect.Effect<void>
}

/**
 * The worker-side service every task handler can read.
 *
 * **Example** (A Monte Carlo task whose result does not depend on the pool size)
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Task, TaskContext } from "effect-parallel"
 *
 * export const Darts = Task.make("Darts", {
 *   module: import.meta.url,
 *   payload: Schema.Number,
 *   success: Schema.Number,
 *   run: (n) =>
 *     Effect.gen(function*() {
 *       const { random } = yield* TaskContext.TaskContext
 *       let hits = 0
 *       for (let i = 0; i < n; i++) {
 *         const x = random.next(), y = random.next()
 *         if (x * x + y * y <= 1) hits++
 *       }
 *       return hits
 *     })
 * })
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export class TaskContext extends Context.Service<TaskContext, TaskContextShape>()("effect-parallel/TaskContext") {}
