/**
 * Finds a task by (module URL, export name): what a worker and a cluster runner do with a task they are
 * sent. Imports are cached per URL, lookups per (URL, name); a module that fails to import is reported,
 * never thrown.
 *
 * It refuses to guess, each time with a `TaskNotFound` message that says how to fix the program:
 * - two different tasks with the name asked for, exported under two names or made twice in the module
 *   (the task registry sees those that are not exported): running either could run the wrong handler;
 * - a module whose import started a program in this worker (a WorkerPool was refused here while it
 *   evaluated): a program without the `import.meta.main` guard. Its tasks are not run: the module's state is
 *   whatever that program left.
 *
 * In-process (`local`), a task of the program's main module while it is still evaluating (running its
 * program with a top-level `await`) is run as it is, without importing the module: importing it would wait
 * for that evaluation, which waits for the task: a hang. Every other module is imported, as a worker does.
 *
 * @internal
 */
import { isTask, type Task } from "../Task.ts"
import { missingGuardMessage, poolRefusals } from "./protocol.ts"
import { lookup, mainStillEvaluating } from "./taskRegistry.ts"

export type LoadedTask = { readonly _tag: "Found"; readonly task: Task.Any } | {
  readonly _tag: "TaskNotFound"
  readonly message: string
}

export interface TaskLoader {
  /** Imports the module (once per URL) and finds the task in it. */
  readonly load: (module: string, name: string) => Promise<LoadedTask>
  /** Imports a module ahead of its first task (a pool's `preload`); in-process, the main module still evaluating is skipped. */
  readonly importModule: (url: string) => Promise<unknown>
}

export interface TaskLoaderOptions {
  /** The loader runs in the isolate that made the tasks (the in-process backend): use them as they are. */
  readonly local?: boolean | undefined
}

/** How many pools were refused in this isolate because it is a worker (set by the pool; a counter). */
const refusals = (): number => ((globalThis as Record<symbol, unknown>)[poolRefusals] as number | undefined) ?? 0

const quote = (s: string): string => JSON.stringify(s)

const list = (items: ReadonlyArray<string>): string =>
  items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`

const ambiguous = (name: string, count: number, where: string): string =>
  `the module has ${count} different tasks named ${quote(name)} (${where}), and a worker finds a task by its ` +
  `module and name: give each task its own name`

const startedProgram = `importing the module started a program in this worker: ${missingGuardMessage}`

export const makeTaskLoader = (options?: TaskLoaderOptions): TaskLoader => {
  const local = options?.local === true
  const modules = new Map<string, Promise<{ readonly exports: Record<string, unknown>; readonly startedProgram: boolean }>>()
  const importModule = (url: string) => {
    let p = modules.get(url)
    if (p === undefined) {
      const before = refusals()
      p = (import(url) as Promise<Record<string, unknown>>).then(
        (exports) => ({ exports, startedProgram: refusals() > before }),
        (e) => {
          // a top-level `await Effect.runPromise(program)` without the guard rejects with the refusal itself
          if (refusals() > before) return { exports: {}, startedProgram: true }
          throw e
        }
      )
      modules.set(url, p)
    }
    return p
  }
  const load = async (module: string, name: string): Promise<LoadedTask> => {
    if (local && mainStillEvaluating(module)) {
      const made = lookup(module, name)
      if (made?._tag === "Found") return { _tag: "Found", task: made.task }
      if (made?._tag === "Ambiguous") {
        return { _tag: "TaskNotFound", message: ambiguous(name, made.sites.length, `Task.make at ${list(made.sites)}`) }
      }
    }
    try {
      const { exports, startedProgram: started } = await importModule(module)
      if (started) return { _tag: "TaskNotFound", message: startedProgram }
      // every export name of every distinct task with this name (one task may be exported twice)
      const found = new Map<Task.Any, Array<string>>()
      for (const [key, value] of Object.entries(exports)) {
        if (isTask(value) && value.name === name) found.set(value, [...(found.get(value) ?? []), key])
      }
      if (found.size > 1) {
        const exportsOf = [...found.values()].map((keys) => keys.sort().join(" = ")).sort()
        return { _tag: "TaskNotFound", message: ambiguous(name, found.size, `exported as ${list(exportsOf)}`) }
      }
      // one exported, another made in the module but not exported: still two handlers for one name
      const made = lookup(module, name)
      if (made?._tag === "Ambiguous") {
        return { _tag: "TaskNotFound", message: ambiguous(name, made.sites.length, `Task.make at ${list(made.sites)}`) }
      }
      const [task] = found.keys()
      if (task !== undefined) return { _tag: "Found", task }
      const names = Object.values(exports).filter(isTask).map((t) => t.name)
      return {
        _tag: "TaskNotFound",
        message: `the module exports no task named ${quote(name)}${
          names.length === 0 ? " (it exports no task at all)" : ` (it exports: ${names.join(", ")})`
        }`
      }
    } catch (e) {
      return {
        _tag: "TaskNotFound",
        message: `the module failed to import: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`
      }
    }
  }
  return {
    load,
    importModule: (url) => local && mainStillEvaluating(url) ? Promise.resolve() : importModule(url)
  }
}
