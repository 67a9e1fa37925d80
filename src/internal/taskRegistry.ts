/**
 * Every task defined in this isolate by its own module (`Task.make` called in the module its `module`
 * option names), by (module, name), with where it was defined; and, in the parent, which of those modules
 * are still evaluating.
 *
 * Two uses:
 * - Two tasks with one name in one module are ambiguous (a worker finds a task by module and name): the
 *   registry sees them even when only one is exported, so the loader refuses to guess.
 * - The in-process backend must not import a module that is still evaluating: a program's main file that
 *   runs its program with a top-level `await Effect.runPromise(...)` would import itself and wait for its
 *   own evaluation, which waits for the task: a hang. For such a module it runs the task defined there as it
 *   is. Whether a module is still evaluating is known exactly: its first `Task.make` starts an `import()` of
 *   the module itself, which resolves when the module's evaluation has finished (nobody waits for it).
 *
 * A definition is identified by its site (file, line and column of the `Task.make` call): a module evaluated
 * twice in one isolate (a test runner's own loader next to Node's) defines the same tasks again, which is not
 * ambiguity. A task made elsewhere with another module's URL (a test's stand-in) is not a definition of that
 * module and is not recorded. The registry lives on `globalThis`, shared by every copy of this module.
 *
 * @internal
 */
import { realpathSync } from "node:fs"
import { pathToFileURL } from "node:url"
import type { Task } from "../Task.ts"
import { workerMarker } from "./protocol.ts"

interface Entry {
  readonly task: Task.Any
  /** `file:///…/tasks.ts:12:27` */
  readonly site: string
}

interface Registry {
  readonly tasks: Map<string, Array<Entry>>
  /** Parent only: modules that defined tasks, "evaluating" until their evaluation has finished. */
  readonly modules: Map<string, "evaluating" | "evaluated" | "failed">
}

const registryKey = Symbol.for("effect-parallel/tasks")

const registry: Registry = ((globalThis as Record<symbol, unknown>)[registryKey] ??= {
  tasks: new Map(),
  modules: new Map()
}) as Registry

const keyOf = (module: string, name: string): string => `${module}\u0000${name}`

/** Where the caller of `fn` is: the first stack frame outside it, as `url:line:column`. */
export const callSite = (fn: (...args: never) => unknown): string | undefined => {
  const holder: { stack?: string } = {}
  const limit = Error.stackTraceLimit
  try {
    Error.stackTraceLimit = 1
    Error.captureStackTrace(holder, fn)
  } catch {
    return undefined
  } finally {
    Error.stackTraceLimit = limit
  }
  const frame = holder.stack?.split("\n")[1]
  const m = frame === undefined ? null : /\(?([^\s()]+):(\d+):(\d+)\)?\s*$/.exec(frame)
  if (m === null) return undefined
  // a test runner's loader may name files by path
  const file = m[1]!.startsWith("/") ? pathToFileURL(m[1]!).href : m[1]!
  return `${file}:${m[2]}:${m[3]}`
}

/** The module a site is in (`file:///…/tasks.ts` of `file:///…/tasks.ts:12:27`). */
const moduleOf = (site: string): string => site.replace(/:\d+:\d+$/, "")

/** Records a task made by `Task.make` at `site`, if that is in the task's own module. */
export const register = (task: Task.Any, site: string | undefined): void => {
  if (site === undefined || moduleOf(site) !== task.module) return
  const key = keyOf(task.module, task.name)
  const entries = registry.tasks.get(key)
  if (entries === undefined) registry.tasks.set(key, [{ task, site }])
  else {
    const same = entries.findIndex((e) => e.site === site)
    if (same >= 0) entries[same] = { task, site }
    else entries.push({ task, site })
  }
  const module = task.module
  if (!registry.modules.has(module) && (globalThis as Record<symbol, unknown>)[workerMarker] !== true) {
    registry.modules.set(module, "evaluating")
    // the module is evaluating now (it is calling Task.make): importing it resolves when that has finished
    import(module).then(
      () => registry.modules.set(module, "evaluated"),
      () => registry.modules.set(module, "failed")
    )
  }
}

export type Lookup =
  | { readonly _tag: "Found"; readonly task: Task.Any }
  | { readonly _tag: "Ambiguous"; readonly sites: ReadonlyArray<string> }

/** The task this module defines with this name: one, several (ambiguous), or none (undefined). */
export const lookup = (module: string, name: string): Lookup | undefined => {
  const entries = registry.tasks.get(keyOf(module, name))
  if (entries === undefined || entries.length === 0) return undefined
  if (entries.length === 1) return { _tag: "Found", task: entries[0]!.task }
  return { _tag: "Ambiguous", sites: entries.map((e) => e.site) }
}

let main: string | null | undefined

/** The URL of the program's main module (`node main.ts`), or null when there is none (a REPL, `-e`). */
const mainModule = (): string | null => {
  if (main !== undefined) return main
  const entry = process.argv[1]
  if (entry === undefined) return (main = null)
  try {
    main = pathToFileURL(realpathSync(entry)).href
  } catch {
    main = pathToFileURL(entry).href
  }
  return main
}

/**
 * Whether this module is the program's main module, defined tasks here and has not finished evaluating
 * (parent only): its program is running from its top level, with an `await`. Only the main module: its
 * import from Task.make settles a little later under a test runner's own loader than under Node's, and
 * modules imported by the program have finished evaluating before the program starts (unless one of them
 * also runs a program with a top-level await: not supported, see the guide).
 */
export const mainStillEvaluating = (module: string): boolean =>
  registry.modules.get(module) === "evaluating" && module === mainModule()
