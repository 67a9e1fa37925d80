// Installs effect-parallel the way a user does and runs it from there (CI's "install like a user" step):
//
//   1. `npm pack` (its `prepack` builds dist/), so the tarball is what `npm publish` would ship;
//   2. for the registry's latest `effect` + `@effect/platform-node`, and again for the lowest versions the
//      peer ranges allow (4.1.0), a fresh project in a temporary folder installs the tarball next to them;
//   3. in each: exactly one copy of `effect` is installed (`npm ls effect --all --parseable`); the README's
//      program (a typed result, `map`, a `catchTag` on a declared error) runs on threads and on processes
//      and prints what it must; a consumer with `lib: ["ES2024"]`, `types: ["node"]`, `skipLibCheck: false`
//      and `strict` type-checks against every public entry point's `.d.ts` (no DOM lib needed); without the
//      optional peer `@effect/sql-pg`, `layerCluster`, `ClusterRunner.layer` and the `effect-parallel runner`
//      command fail with a typed error that says `npm install @effect/sql-pg`;
//   4. a Node older than `engines` (the system's, when there is one) fails at once on importing any entry
//      point, with a message naming the version needed.
//
//   node scripts/check-install.mjs [--keep]     # --keep leaves the temporary projects for inspection
//
// The projects run on this repository's Node (node_modules/.bin/node, Node 24): the package needs >= 22.19.
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const fixtures = path.join(import.meta.dirname, "install-check")
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
const node = process.execPath
// npm runs on this Node too (its shebang is `env node`): an older system Node would warn about engines
const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}` }
const keep = process.argv.includes("--keep")
const started = performance.now()
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`

const fail = (message) => {
  console.error(`check-install: ${message}`)
  process.exit(1)
}

/** Runs a command; returns { code, stdout, stderr } and never throws. */
const run = (command, args, options = {}) => {
  const r = spawnSync(command, args, { encoding: "utf8", env, timeout: 120_000, ...options })
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error }
}

/** Runs a command that must succeed; returns its stdout. */
const must = (command, args, options = {}) => {
  const r = run(command, args, options)
  if (r.code !== 0) fail(`${command} ${args.join(" ")} failed (${r.code ?? r.signal ?? r.error}):\n${r.stdout}${r.stderr}`)
  return r.stdout
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "effect-parallel-install-"))
process.on("exit", () => {
  if (!keep) fs.rmSync(work, { recursive: true, force: true })
  else console.log(`kept ${work}`)
})

// --- 1. the tarball ------------------------------------------------------------------------------------------

console.log("npm pack (prepack builds dist/)")
const packed = JSON.parse(must("npm", ["pack", "--json", "--pack-destination", work], { cwd: root, timeout: 300_000 }))
const tarball = path.join(work, packed[0].filename)
const files = new Set(packed[0].files.map((f) => f.path))
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (target === null || typeof target === "string") continue
  for (const file of [target.types, target.default]) {
    if (!files.has(file.replace(/^\.\//, ""))) fail(`the tarball lacks ${file} (exports["${subpath}"])`)
  }
}
if (!files.has(pkg.bin["effect-parallel"].replace(/^\.\//, ""))) fail("the tarball lacks the effect-parallel command")
console.log(`  ${packed[0].filename}: ${packed[0].entryCount} files, ${(packed[0].size / 1024).toFixed(0)} KiB (${seconds()})`)

/** Every public entry point, as a user imports it. */
const specifiers = Object.entries(pkg.exports)
  .filter(([subpath, target]) => target !== null && typeof target === "object" && !subpath.includes("*"))
  .map(([subpath]) => subpath === "." ? "effect-parallel" : `effect-parallel/${subpath.slice(2)}`)

// --- 2, 3. a fresh project per set of peer versions ----------------------------------------------------------

const typingsProgram = () =>
  [
    "// every public entry point: the compiler checks each one's .d.ts (skipLibCheck: false)",
    ...specifiers.map((s, k) => `import * as M${k} from "${s}"`),
    `export const modules = [${specifiers.map((_, k) => `M${k}`).join(", ")}]`,
    ""
  ].join("\n")

const tsconfig = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2024"],
    types: ["node"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    allowImportingTsExtensions: true,
    verbatimModuleSyntax: true
  },
  include: ["*.ts"]
}

const expected = JSON.stringify({ one: 25, all: [168, 135, 127, 120, 119, 114, 117, 107], doubled: 8, caught: "BadRange from -1" })

const project = (label, peers, { lib }) => {
  console.log(`\n${label}: ${peers.join(" ")}`)
  const dir = path.join(work, label)
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: `check-${label}`, private: true, type: "module" }, null, 2))
  for (const f of ["primes.ts", "no-sql-pg.ts", "old-node.mjs", "old-node-program.mjs"]) fs.copyFileSync(path.join(fixtures, f), path.join(dir, f))
  fs.writeFileSync(path.join(dir, "typings.ts"), typingsProgram())
  fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ ...tsconfig, compilerOptions: { ...tsconfig.compilerOptions, lib } }, null, 2))
  must("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, ...peers, `@types/node@${pkg.devDependencies["@types/node"]}`], {
    cwd: dir,
    timeout: 300_000
  })
  const installed = (name) => JSON.parse(fs.readFileSync(path.join(dir, "node_modules", name, "package.json"), "utf8")).version
  console.log(`  installed effect ${installed("effect")}, @effect/platform-node ${installed("@effect/platform-node")} (${seconds()})`)

  // exactly one copy of effect, wherever a package asks for it
  const copies = [...new Set(must("npm", ["ls", "effect", "--all", "--parseable"], { cwd: dir }).split("\n").filter(Boolean))]
  if (copies.length !== 1) fail(`${label}: ${copies.length} copies of effect are installed:\n  ${copies.join("\n  ")}`)
  console.log(`  one copy of effect: ${path.relative(dir, copies[0])}`)
  if (fs.existsSync(path.join(dir, "node_modules", "@effect", "sql-pg"))) fail(`${label}: @effect/sql-pg was installed, but it is an optional peer`)

  // the README's program, on threads and on processes
  for (const backend of ["threads", "processes"]) {
    const r = run(node, ["primes.ts", backend], { cwd: dir, timeout: 60_000 })
    const out = r.stdout.trim()
    if (r.code !== 0 || out !== expected) {
      fail(`${label}: the README program on ${backend} exited ${r.code ?? r.signal} and printed:\n${r.stdout}${r.stderr}\nexpected:\n${expected}`)
    }
    console.log(`  README program on ${backend}: ${out}`)
  }

  // typings without the DOM lib, every .d.ts checked
  const tsc = run(node, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "."], { cwd: dir })
  if (tsc.code !== 0) fail(`${label}: a consumer with lib ${lib.join(", ")} does not type-check:\n${tsc.stdout}${tsc.stderr}`)
  console.log(`  a strict consumer with lib ${lib.join(", ")}, types node, skipLibCheck false type-checks ${specifiers.length} entry points`)

  // the cluster without its optional peer: a typed error saying what to install
  const noPg = run(node, ["no-sql-pg.ts"], { cwd: dir, timeout: 60_000 })
  const lines = noPg.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l))
  if (noPg.code !== 0 || lines.length !== 2) fail(`${label}: no-sql-pg.ts exited ${noPg.code}:\n${noPg.stdout}${noPg.stderr}`)
  for (const l of lines) {
    if (l.tag !== "WorkerError" || l.reason !== "ClusterUnavailable" || !l.message.includes("npm install @effect/sql-pg")) {
      fail(`${label}: ${l.name} without @effect/sql-pg gave ${JSON.stringify(l)}`)
    }
    console.log(`  ${l.name} without @effect/sql-pg: ${l.reason}: ${l.message}`)
  }
  const cli = run(node, [path.join("node_modules", ".bin", "effect-parallel"), "runner", "--postgres", "postgres://nobody@127.0.0.1:1/none"], {
    cwd: dir,
    timeout: 60_000
  })
  if (cli.code === 0 || !cli.stderr.includes("npm install @effect/sql-pg")) {
    fail(`${label}: effect-parallel runner without @effect/sql-pg exited ${cli.code ?? cli.signal}:\n${cli.stdout}${cli.stderr}`)
  }
  console.log(`  effect-parallel runner without @effect/sql-pg: exit ${cli.code}, ${cli.stderr.trim().split("\n")[0]}`)
  return dir
}

const latest = project("latest", ["effect@latest", "@effect/platform-node@latest"], { lib: ["ES2024"] })
// @effect/platform-node 4.1.0 asks for @effect/platform-node-shared ^4.1.0, which npm resolves to the newest,
// whose own peer range excludes effect 4.1.0: pinned too, so that the lowest set is one npm accepts.
// Effect 4.1.0's own effect/Schema.d.ts needs the DOM lib (its crypto modules name CryptoKey and JsonWebKey;
// 4.1.5's do not): with 4.1.0 no program that uses Schema type-checks without it, so that consumer has it.
project("lowest", ["effect@4.1.0", "@effect/platform-node@4.1.0", "@effect/platform-node-shared@4.1.0"], { lib: ["ES2024", "DOM"] })

// --- 4. too old a Node ----------------------------------------------------------------------------------------

const needed = pkg.engines.node.replace(/^>=\s*/, "")
const older = (version) => {
  const [a, b] = version.replace(/^v/, "").split(".").map(Number)
  const [x, y] = needed.split(".").map(Number)
  return a < x || (a === x && b < y)
}
const oldNode = ["/usr/bin/node", "/usr/local/bin/node", "/bin/node"].find((p) => {
  try {
    return fs.existsSync(p) && older(execFileSync(p, ["--version"], { encoding: "utf8" }).trim())
  } catch {
    return false
  }
})
console.log()
if (oldNode === undefined) {
  console.log(`too old a Node: skipped (no Node older than ${needed} at /usr/bin/node, /usr/local/bin/node or /bin/node)`)
} else {
  const version = execFileSync(oldNode, ["--version"], { encoding: "utf8" }).trim()
  const message = `effect-parallel needs Node.js >= ${needed}`
  const program = run(oldNode, ["old-node-program.mjs"], { cwd: latest, env: process.env })
  if (program.code === 0 || !program.stderr.includes(message) || program.stdout.includes("imported")) {
    fail(`a program on Node ${version} exited ${program.code} and printed:\n${program.stdout}${program.stderr}`)
  }
  const each = run(oldNode, ["old-node.mjs", ...specifiers], { cwd: latest, env: process.env })
  const results = each.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l))
  const wrong = results.filter((r) => r.imported || !r.message.includes(message))
  if (each.code !== 0 || results.length !== specifiers.length || wrong.length > 0) {
    fail(`on Node ${version}, these entry points did not fail with "${message}":\n${JSON.stringify(wrong)}\n${each.stdout}${each.stderr}`)
  }
  const cli = run(oldNode, [path.join("node_modules", "effect-parallel", pkg.bin["effect-parallel"])], { cwd: latest, env: process.env })
  if (cli.code === 0 || !cli.stderr.includes(message)) fail(`the command on Node ${version} exited ${cli.code}:\n${cli.stdout}${cli.stderr}`)
  console.log(`too old a Node (${version}): a program exits ${program.code} with "${program.stderr.split("\n").find((l) => l.includes(message)).trim()}"`)
  console.log(`  and so do all ${specifiers.length} entry points and the effect-parallel command`)
}

console.log(`\ncheck-install: ok (${seconds()})`)
