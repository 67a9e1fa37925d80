/**
 * The parent's pool machinery, in one module that the public modules import when a pool is built
 * (`lazy.ts`): the front, the local executor and its engine, the cluster's loader (each backend loads on
 * its own, with the pool that uses it). Batches
 * (`parent/batch.ts`, with `effect/Stream`) load with the first batch. A worker, which imports the package
 * with its task modules, loads none of it.
 *
 * @internal
 */
export { makeFront } from "./front.ts"
export { loadCluster } from "./cluster/load.ts"
export { makeLocal } from "./parent/pool.ts"
