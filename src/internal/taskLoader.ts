/**
 * Finds a task by (module URL, export name): what a worker and a cluster runner do with a task they are
 * sent. Imports are cached per URL, lookups per (URL, name); a module that fails to import is reported,
 * never thrown.
 *
 * @internal
 */
import { type Task, isTask } from "../Task.ts"

export type LoadedTask = { readonly _tag: "Found"; readonly task: Task.Any } | {
  readonly _tag: "TaskNotFound"
  readonly message: string
}

export interface TaskLoader {
  /** Imports the module (once per URL) and finds the task in it. */
  readonly load: (module: string, name: string) => Promise<LoadedTask>
  /** Imports a module ahead of its first task (a pool's `preload`). */
  readonly importModule: (url: string) => Promise<Record<string, unknown>>
}

export const makeTaskLoader = (): TaskLoader => {
  const modules = new Map<string, Promise<Record<string, unknown>>>()
  const importModule = (url: string): Promise<Record<string, unknown>> => {
    let p = modules.get(url)
    if (p === undefined) {
      p = import(url) as Promise<Record<string, unknown>>
      modules.set(url, p)
    }
    return p
  }
  const load = async (module: string, name: string): Promise<LoadedTask> => {
    try {
      const mod = await importModule(module)
      const found = Object.values(mod).find((v) => isTask(v) && v.name === name) as Task.Any | undefined
      if (found !== undefined) return { _tag: "Found", task: found }
      const names = Object.values(mod).filter(isTask).map((t) => t.name)
      return {
        _tag: "TaskNotFound",
        message: `the module exports no task named ${JSON.stringify(name)}${
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
  return { load, importModule }
}
