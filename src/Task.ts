/**
 * Defines a named, typed unit of work that a pool can run in another thread, process or machine.
 *
 * A task is declared at the top level of a module with no side effects: a name, the module's own URL
 * (`import.meta.url`), schemas for its payload, its success and (optionally) its error, and the handler.
 * The parent and the workers import the same module; a worker finds the task by (module URL, name), the way
 * Python pickles a top-level function by qualified name. There is no worker file to write.
 *
 * A module that also runs a program must guard it with `if (import.meta.main)`, so that a worker
 * importing the module to find the task does not run the program again (Python's `__main__` guard).
 *
 * @since 0.1.0
 */
import "./internal/nodeVersion.ts"
import * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type { TaskRef } from "./internal/service.ts"
import { runTask, type WorkerPool } from "./internal/service.ts"
import { callSite, register } from "./internal/taskRegistry.ts"
import type { TaskContext } from "./TaskContext.ts"
import type { WorkerError } from "./WorkerError.ts"
import type { RunOptions } from "./WorkerPool.ts"

const TypeId = "~effect-parallel/Task" as const

/**
 * Any schema a task may use: a codec that needs no services to encode or decode.
 *
 * @category models
 * @since 0.1.0
 */
export type AnySchema = Schema.Codec<any, any, never, never>

/**
 * A typed task. Calling it (`CountPrimes(payload)`) gives an effect that runs it on the `WorkerPool` in
 * context; its error channel is the task's declared error plus {@link WorkerError}.
 *
 * @category models
 * @since 0.1.0
 */
export interface Task<
  Name extends string = string,
  Payload extends AnySchema = AnySchema,
  Success extends AnySchema = AnySchema,
  Error extends AnySchema = AnySchema
> extends TaskRef {
  (payload: Payload["Type"], options?: RunOptions<Error["Type"]>): Effect.Effect<
    Success["Type"],
    Error["Type"] | WorkerError,
    WorkerPool
  >
  readonly [TypeId]: typeof TypeId
  readonly name: Name
  readonly module: string
  readonly payload: Payload
  readonly success: Success
  readonly error: Error | undefined
  readonly run: (payload: Payload["Type"]) => Effect.Effect<Success["Type"], Error["Type"], TaskContext>
}

/**
 * @category models
 * @since 0.1.0
 */
export declare namespace Task {
  /** The payload type of a task. */
  export type Payload<T> = T extends Task<any, infer P, any, any> ? P["Type"] : never
  /** The success type of a task. */
  export type Success<T> = T extends Task<any, any, infer S, any> ? S["Type"] : never
  /** The declared error type of a task. */
  export type Error<T> = T extends Task<any, any, any, infer E> ? E["Type"] : never
  /** Any task. */
  export type Any = Task<string, any, any, any>
}

/**
 * Tells whether a value is a task made by {@link make}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isTask = (u: unknown): u is Task.Any =>
  typeof u === "function" && (u as unknown as Record<string, unknown>)[TypeId] === TypeId

const namePattern = /^[A-Za-z_$][\w$.-]*$/

/**
 * Defines a task.
 *
 * **When to use**
 *
 * For any work that should run off the caller's thread: CPU-bound computations (rendering, parsing,
 * simulation), or code that needs isolation (processes). Plain I/O-bound effects do not need a task: run
 * them concurrently with `Parallel.forEach`.
 *
 * **Details**
 *
 * - `module` must be `import.meta.url` of the module that exports the task, and the task must be
 *   exported: workers import that module and look the task up by `name`.
 * - Names are unique within a module. Two different tasks with one name in one module (a copied
 *   definition that kept its name, exported or not) are refused when either runs: a `WorkerError` with
 *   reason `TaskNotFound` that names both exports (or both `Task.make` calls), never one's handler for the
 *   other's call.
 * - `payload`, `success` and `error` are schemas; values cross the boundary in their encoded form by
 *   structured clone, and a declared error arrives as an instance of its class (rule R5).
 * - The handler may read `TaskContext` (index, attempt, a reproducible random stream).
 *
 * **Gotchas**
 *
 * - Closures do not travel: the handler runs in another isolate and sees only its payload and what its
 *   module imports.
 * - What a schema does not describe arrives as structured clone leaves it: an instance of your own class
 *   in a `Schema.Unknown` (or `Schema.Any`) field arrives as a plain object, without its prototype and its
 *   methods. Give such a value a schema of its own (`Schema.Class`, `Schema.instanceOf` for built-ins such
 *   as `Uint8Array`) to get the class back.
 * - Workers import the task's module: a module that also runs a program must guard it with
 *   `if (import.meta.main)`. Without the guard, the first task fails with a `TaskNotFound` that says so (the
 *   program a worker started by importing the module is stopped at its pool). Keep heavy imports out of task
 *   modules too: every worker pays for them before its first task.
 * - A synchronous CPU loop cannot notice an interruption; the pool kills and replaces its worker after
 *   `interruptGrace` (rule R2).
 *
 * **Example** (Counting primes in a worker)
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Task } from "effect-parallel"
 *
 * export class BadRange extends Schema.TaggedError<BadRange>()("BadRange", { from: Schema.Number }) {}
 *
 * export const CountPrimes = Task.make("CountPrimes", {
 *   module: import.meta.url,
 *   payload: Schema.Struct({ from: Schema.Number, to: Schema.Number }),
 *   success: Schema.Number,
 *   error: BadRange,
 *   run: ({ from, to }) => from < 0 ? Effect.fail(new BadRange({ from })) : Effect.sync(() => countPrimes(from, to))
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <
  const Name extends string,
  Payload extends AnySchema,
  Success extends AnySchema,
  Error extends AnySchema = Schema.Never
>(
  name: Name,
  options: {
    readonly module: string
    readonly payload: Payload
    readonly success: Success
    readonly error?: Error | undefined
    readonly run: (payload: Payload["Type"]) => Effect.Effect<Success["Type"], Error["Type"], TaskContext>
  }
): Task<Name, Payload, Success, Error> => {
  if (typeof name !== "string" || !namePattern.test(name)) {
    throw new TypeError(`Task.make: name must be an identifier-like string, got ${JSON.stringify(name)}`)
  }
  if (typeof options.module !== "string" || !/^(file|data|https?):/.test(options.module)) {
    throw new TypeError(
      `Task.make(${JSON.stringify(name)}): module must be import.meta.url of the defining module, got ${
        JSON.stringify(options.module)
      }`
    )
  }
  if (typeof options.run !== "function") {
    throw new TypeError(`Task.make(${JSON.stringify(name)}): run must be a function`)
  }
  const task = ((payload: unknown, runOptions?: RunOptions) => runTask(task, payload, runOptions)) as unknown as Task<
    Name,
    Payload,
    Success,
    Error
  >
  Object.defineProperties(task, {
    [TypeId]: { value: TypeId },
    name: { value: name },
    module: { value: options.module, enumerable: true },
    payload: { value: options.payload, enumerable: true },
    success: { value: options.success, enumerable: true },
    error: { value: options.error, enumerable: true },
    run: { value: options.run, enumerable: true }
  })
  register(task, callSite(make))
  return task
}
