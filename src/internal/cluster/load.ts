/**
 * Loads the cluster's modules on demand. They import `@effect/sql-pg`, an optional peer dependency of
 * effect-parallel: a program that never uses the cluster does not need it installed, and one that does gets a
 * typed `ClusterUnavailable` saying what to install instead of a defect about a missing package.
 *
 * This module imports nothing from the cluster, so the public modules can import it statically.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { ClusterUnavailable, WorkerError } from "../../WorkerError.ts"

/** The optional peer dependencies the cluster needs, by package name. */
const optionalPeers = ["@effect/sql-pg"]

/** The package a failed import could not find (Node's `ERR_MODULE_NOT_FOUND`), if it is an optional peer. */
export const missingPeer = (e: unknown): string | undefined => {
  if ((e as { code?: unknown } | null)?.code !== "ERR_MODULE_NOT_FOUND") return undefined
  const message = e instanceof Error ? e.message : String(e)
  return optionalPeers.find((name) => message.includes(`'${name}'`) || message.includes(`"${name}"`) || message.includes(`${name}/`))
}

/**
 * Imports a cluster module (`load` is the `import(...)` call); a failure is a `ClusterUnavailable`
 * `WorkerError`: a missing optional peer says which package to install, any other failure says what failed.
 */
export const loadCluster = <M>(what: string, load: () => Promise<M>): Effect.Effect<M, WorkerError> =>
  Effect.tryPromise({
    try: load,
    catch: (e) => {
      const peer = missingPeer(e)
      const cause = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
      return new WorkerError({
        reason: new ClusterUnavailable({
          taskName: "",
          message: peer === undefined
            ? `the cluster ${what} failed to load: ${cause}`
            : `the cluster ${what} needs the optional peer dependency ${peer}, which is not installed: ` +
              `npm install ${peer} (${cause})`
        })
      })
    }
  })
