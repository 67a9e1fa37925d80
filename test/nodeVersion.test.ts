/**
 * Too old a Node fails loudly: every entry point of the package imports the version guard first, and the
 * guard, run on an old Node, throws a message naming the version needed (it exits non-zero).
 *
 * The built package is checked the same way on the system's old Node by `scripts/check-install.mjs`.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as module from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { olderThan, requiredNode } from "../src/internal/nodeVersion.ts"

const root = path.resolve(import.meta.dirname, "..")
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
  readonly engines: { readonly node: string }
  readonly exports: Record<string, { readonly default: string } | string | null>
  readonly bin: Record<string, string>
  readonly sideEffects: ReadonlyArray<string> | boolean
}

/** The source of every module a user can import or run: package.json's exports and bin, as src/*.ts. */
const entryPoints = [
  ...Object.values(pkg.exports).flatMap((t) => t !== null && typeof t === "object" ? [t.default] : []),
  ...Object.values(pkg.bin)
].map((dist) => dist.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts"))

/** The first import statement of a module, after its comments. */
const firstImport = (source: string): string | undefined =>
  source.replace(/^#!.*\n/, "").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "").split("\n").map((l) => l.trim()).find((l) =>
    l.startsWith("import ") || l.startsWith("export ")
  )

/** A Node older than the one required, where the system has one (the repository's Node is 24). */
const oldNode = ["/usr/bin/node", "/usr/local/bin/node", "/bin/node"].find((p) => {
  if (!fs.existsSync(p)) return false
  const r = spawnSync(p, ["--version"], { encoding: "utf8" })
  return r.status === 0 && olderThan(r.stdout.trim(), requiredNode)
})

describe("Node version guard", () => {
  it("the required version is package.json's engines", () => {
    assert.strictEqual(pkg.engines.node, `>=${requiredNode}`)
  })

  it("compares versions by major and minor", () => {
    for (const v of ["20.20.2", "v20.0.0", "22.18.9", "18.19.0", "0.12.0"]) assert.isTrue(olderThan(v, "22.19"), v)
    for (const v of ["22.19.0", "v22.19.1", "22.20.0", "23.0.0", "24.21.0", "25.1.0"]) assert.isFalse(olderThan(v, "22.19"), v)
  })

  it("every entry point (the barrel, each subpath, the command) imports the guard before anything else", () => {
    assert.isAtLeast(entryPoints.length, 20)
    for (const file of entryPoints) {
      const source = fs.readFileSync(path.join(root, file), "utf8")
      const guard = path.relative(path.dirname(file), "src/internal/nodeVersion.ts")
      assert.strictEqual(firstImport(source), `import "./${guard}"`, `${file} must import the version guard first`)
    }
  })

  it("the guard is the package's one declared side effect, so bundlers keep it", () => {
    // the build (scripts/build.mjs) keeps the guard in a chunk of its own, and an entry file of its own
    assert.deepStrictEqual(pkg.sideEffects, [
      "./dist/internal/nodeVersion.js",
      "./dist/internal/chunks/nodeVersion.js",
      "./src/internal/nodeVersion.ts"
    ])
  })

  it.skipIf(oldNode === undefined)(
    `on an old Node (${oldNode ?? "none found: skipped"}) the guard fails at once, naming the version needed`,
    () => {
      // the guard as the build emits it (types stripped), run by the old Node as a module
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ep-node-version-"))
      try {
        const js = module.stripTypeScriptTypes(fs.readFileSync(path.join(root, "src/internal/nodeVersion.ts"), "utf8"))
        const file = path.join(dir, "nodeVersion.mjs")
        fs.writeFileSync(file, `${js}\nconsole.log("guard passed")\n`)
        const version = spawnSync(oldNode!, ["--version"], { encoding: "utf8" }).stdout.trim().replace(/^v/, "")
        const old = spawnSync(oldNode!, [file], { encoding: "utf8", timeout: 30_000 })
        assert.notStrictEqual(old.status, 0)
        assert.include(old.stderr, `effect-parallel needs Node.js >= ${requiredNode}, and this is Node.js ${version}`)
        assert.notInclude(old.stdout, "guard passed")
        // and the same file passes on this Node
        const current = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 30_000 })
        assert.strictEqual(current.status, 0, current.stderr)
        assert.include(current.stdout, "guard passed")
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }
  )
})
