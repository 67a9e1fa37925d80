/**
 * The parent's pool machinery, in one module that the public modules import on first use (`lazy.ts`):
 * the front, the local executor and its engine, the backends, batches (with `effect/Stream`), the cluster's
 * loader. Importing `effect-parallel` then costs a few milliseconds more than `effect/Effect` and
 * `effect/Schema`; a worker, which imports the package with its task modules, never loads any of it.
 *
 * @internal
 */
export { makeFront } from "./front.ts"
export { loadCluster } from "./cluster/load.ts"
export { inProcess } from "./inProcess.ts"
export { imap, map, mapStream, spread } from "./parent/batch.ts"
export { makeLocal } from "./parent/pool.ts"
export { processes } from "./parent/processes.ts"
export { threads } from "./parent/threads.ts"
