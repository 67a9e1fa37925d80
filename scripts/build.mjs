// Builds `dist/` for publishing: declarations from `tsc`, JavaScript bundled by rolldown into a few files.
//
// Why bundle: loading a module costs Node about 0.15 ms a file before any of its code runs (resolve, package
// scope lookups, compile, link). Built file by file, the barrel was 66 files and its import cost ~38 ms on top
// of effect/Effect + effect/Schema; bundled, ~13–16 ms (docs/performance-notes.md, "Issue 17, third sitting: a bundled build").
// The sources stay one concept per file; only the published JavaScript is merged.
//
// The chunks:
//   - `main`: everything the public modules import statically. One chunk, not one per public module or per
//     side: measured, chunks per side (a task module's, the shared objects', the parent's) cost the barrel's
//     import ~2.5 ms more and saved a worker nothing, since task modules import the barrel too;
//   - `worker`: the rest of the worker runtime (what the generic worker entry imports);
//   - `pool`: the pool machinery a pool loads when it is built (the front, the local pool, the policy);
//   - what else the sources import dynamically (a backend, the cluster, a shared object's parent side, the
//     progress stream, ...) stays a chunk of its own, loaded on first use as before.
// Each public entry is a small file that re-exports from `main`, so `effect-parallel` and
// `effect-parallel/Task` share one instance of every module. Entries with top-level effects of their own (the
// `effect-parallel` command, the worker entry, the Node version check) are never merged into a chunk that
// another entry loads; the version check is a chunk of its own that `main` imports first.
//
// Usage: node scripts/build.mjs [--out DIR]   (DIR defaults to dist)
import { execFileSync } from "node:child_process"
import { readdirSync, rmSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { build, rolldown } from "rolldown"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const outIndex = process.argv.indexOf("--out")
const out = resolve(root, outIndex === -1 ? "dist" : process.argv[outIndex + 1])
const src = (file) => join(root, "src", file)

/** Public entries: every module at the top of src/, plus the worker entry and the version check. */
const input = {}
for (const file of readdirSync(join(root, "src"))) if (file.endsWith(".ts")) input[file.slice(0, -3)] = src(file)
input["internal/worker/entry"] = src("internal/worker/entry.ts")
input["internal/nodeVersion"] = src("internal/nodeVersion.ts")

/** Modules that run something when loaded: each stays alone in its own entry file. */
const standalone = new Set([src("cli.ts"), src("internal/worker/entry.ts"), src("internal/nodeVersion.ts")])

const external = (id) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0")

// The module graph, from rolldown itself: each module's static imports.
const staticImports = new Map()
const graph = await rolldown({
  input,
  platform: "node",
  external,
  logLevel: "silent",
  plugins: [{ name: "graph", moduleParsed: (info) => void staticImports.set(info.id, info.importedIds) }]
})
await graph.generate({ format: "esm" })
await graph.close()

/** The modules `roots` load statically (their closure), less those in `exclude`. */
const closure = (roots, exclude) => {
  const seen = new Set()
  const visit = (id) => {
    if (seen.has(id) || exclude.has(id) || standalone.has(id) || !staticImports.has(id)) return
    seen.add(id)
    for (const next of staticImports.get(id)) visit(next)
  }
  for (const r of roots) visit(r)
  return seen
}
const publicModules = Object.values(input).filter((id) => !standalone.has(id))
const taken = new Set()
/** A chunk of what `roots` load statically, less what an earlier chunk has. */
const layer = (roots) => {
  const ids = closure(roots, taken)
  for (const id of ids) taken.add(id)
  return ids
}
const layers = [
  ["nodeVersion", new Set([src("internal/nodeVersion.ts")])],
  ["main", layer(publicModules)],
  ["worker", layer(["internal/worker/runtime.ts", "internal/wire.ts", "internal/protocol.ts"].map(src))],
  ["pool", layer([src("internal/machinery.ts")])]
]

rmSync(out, { recursive: true, force: true })
const started = performance.now()
const result = await build({
  input,
  platform: "node",
  external,
  output: {
    dir: out,
    format: "esm",
    entryFileNames: "[name].js",
    // the layers' chunks keep their names (package.json's "sideEffects" names the version check's;
    // bench/startup/breakdown-worker.mjs loads the worker's), the rest is named after its first module
    chunkFileNames: (chunk) =>
      layers.some(([name]) => name === chunk.name) ? "internal/chunks/[name].js" : "internal/chunks/[name]-[hash].js",
    sourcemap: true,
    codeSplitting: {
      groups: layers.map(([name, ids], i) => ({
        name,
        priority: layers.length - i,
        test: (id) => ids.has(id)
      }))
    }
  },
  write: true
})
const chunks = result.output.filter((o) => o.type === "chunk")
// on stderr: `npm pack --json` (whose `prepack` runs this) keeps stdout for its JSON
console.error(
  `rolldown: ${chunks.length} files in ${relative(root, out)}/ (${chunks.filter((c) => c.isEntry).length} entries) in ` +
    `${(performance.now() - started).toFixed(0)} ms; chunks: ` +
    layers.map(([name, ids]) => `${name} ${ids.size} modules`).join(", ")
)

// Declarations, file by file as the sources are (declaration maps point into src/).
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--emitDeclarationOnly", "--outDir", out], {
  cwd: root,
  stdio: "inherit"
})
