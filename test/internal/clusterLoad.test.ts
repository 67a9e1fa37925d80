/**
 * The cluster's modules are loaded on demand; without the optional peer `@effect/sql-pg` the failure is a
 * typed `ClusterUnavailable` that says what to install. (scripts/check-install.mjs checks the same on the
 * packed package, with `@effect/sql-pg` really absent: `layerCluster`, `ClusterRunner.layer` and the
 * `effect-parallel runner` command.)
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { loadCluster, missingPeer } from "../../src/internal/cluster/load.ts"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ep-cluster-load-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

/** A module outside this repository (no node_modules above it) that imports `specifier`. */
const importerOf = (specifier: string): string => {
  const file = path.join(dir, `${specifier.replace(/\W/g, "_")}.mjs`)
  fs.writeFileSync(file, `import ${JSON.stringify(specifier)}\n`)
  return pathToFileURL(file).href
}

describe("loading the cluster", () => {
  it("a missing @effect/sql-pg is a ClusterUnavailable that says npm install @effect/sql-pg", () => {
    // Node's own error for a package that cannot be found, from a module that imports it. Run by Node
    // itself: under vitest, Vite's resolver finds the package from this repository instead.
    const url = importerOf("@effect/sql-pg/PgClient")
    const script = `
      import { Effect } from "effect"
      import { loadCluster } from ${JSON.stringify(pathToFileURL(path.resolve(import.meta.dirname, "../../src/internal/cluster/load.ts")).href)}
      const e = await Effect.runPromise(Effect.flip(loadCluster("client", () => import(${JSON.stringify(url)}))))
      console.log(JSON.stringify({ tag: e._tag, reason: e.reason._tag, message: e.message }))`
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", cwd: path.resolve(import.meta.dirname, "../.."), timeout: 30_000 })
    assert.strictEqual(r.status, 0, r.stderr)
    const error = JSON.parse(r.stdout) as { tag: string; reason: string; message: string }
    assert.strictEqual(error.tag, "WorkerError")
    assert.strictEqual(error.reason, "ClusterUnavailable")
    assert.include(error.message, "the cluster client needs the optional peer dependency @effect/sql-pg")
    assert.include(error.message, "npm install @effect/sql-pg")
  })

  it.effect("another failure to load says what failed, without blaming @effect/sql-pg", () =>
    Effect.gen(function*() {
      const url = importerOf("some-package-that-does-not-exist")
      const error = yield* Effect.flip(loadCluster("runner", () => import(url)))
      assert.strictEqual(error.reason._tag, "ClusterUnavailable")
      assert.include(error.message, "the cluster runner failed to load")
      assert.include(error.message, "some-package-that-does-not-exist")
      assert.notInclude(error.message, "npm install")
      const thrown = yield* Effect.flip(loadCluster("client", () => Promise.reject(new TypeError("boom"))))
      assert.include(thrown.message, "TypeError: boom")
    }))

  it("only an optional peer that cannot be found is named", () => {
    const notFound = (message: string) => Object.assign(new Error(message), { code: "ERR_MODULE_NOT_FOUND" })
    assert.strictEqual(missingPeer(notFound("Cannot find package '@effect/sql-pg' imported from /x.js")), "@effect/sql-pg")
    assert.strictEqual(missingPeer(notFound("Cannot find package 'pg' imported from /x.js")), undefined)
    assert.strictEqual(missingPeer(new Error("Cannot find package '@effect/sql-pg'")), undefined, "not a module-not-found error")
  })

  it.effect("with @effect/sql-pg installed the module loads", () =>
    Effect.gen(function*() {
      const m = yield* loadCluster("client", () => import("../../src/internal/cluster/client.ts"))
      assert.isFunction(m.makeCluster)
    }))
})
