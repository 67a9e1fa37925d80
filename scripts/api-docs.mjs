// Writes docs/api.md, the API reference, from the doc comments of the exported symbols of src/*.ts.
//
//   node scripts/api-docs.mjs           # writes docs/api.md
//   node scripts/api-docs.mjs --check   # exits 1 if docs/api.md is not what the sources give
//
// Either way, every TypeScript code block of the reference must parse (signatures are written in the forms
// of a declaration file: `declare function`, `declare const`, elided bodies as comments): checked with the
// TypeScript compiler of the dev dependencies, through the API TypeScript 7 offers (`typescript/unstable/sync`).
//
// Why not typedoc or @effect/docgen: both are built on the JavaScript compiler API of TypeScript 5 (docgen
// 0.5 has `typescript ^5.2` as a peer; typedoc 0.28 fails at start-up here), and this repository is on
// TypeScript 7, the native port, whose API is a different, unstable client of the native compiler: enough to
// parse blocks, not what those tools are built on. This script reads the sources
// as text instead: every `/** ... */` at the top level followed by an `export`, with the declaration's
// signature (a function's head without its body; an interface or type in full). Public names that
// re-export an internal type (`export type PoolOptions = Options`) show the internal declaration, so that
// its fields' comments appear. Plain Node, no dependencies.
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const src = path.join(root, "src")
const target = path.join(root, "docs", "api.md")

/** The modules in reading order; any other module that index.ts exports comes after them. */
const ORDER = ["Task", "WorkerPool", "AsyncResult", "TaskContext", "WorkerError", "Parallel", "Progress", "Speedup"]

// --- scanning TypeScript as text ---------------------------------------------------------------------------

/** Index just past the string, template or comment that starts at `i`, or `i` if none starts there. */
const skipLiteral = (s, i) => {
  const c = s[i]
  if (c === "/" && s[i + 1] === "/") {
    const end = s.indexOf("\n", i)
    return end === -1 ? s.length : end
  }
  if (c === "/" && s[i + 1] === "*") return s.indexOf("*/", i + 2) + 2
  if (c === '"' || c === "'" || c === "`") {
    let j = i + 1
    while (j < s.length && s[j] !== c) {
      if (s[j] === "\\") j++
      else if (c === "`" && s[j] === "$" && s[j + 1] === "{") j = matching(s, j + 1) - 1
      j++
    }
    return j + 1
  }
  return i
}

const OPEN = { "(": ")", "[": "]", "{": "}", "<": ">" }

/** Index just past the bracket that closes the one at `i` (angle brackets count; `=>` does not). */
const matching = (s, i) => {
  const stack = []
  for (let j = i; j < s.length; j++) {
    const k = skipLiteral(s, j)
    if (k !== j) {
      j = k - 1
      continue
    }
    const c = s[j]
    if (c === "=" && s[j + 1] === ">") {
      j++
      continue
    }
    if (OPEN[c]) stack.push(OPEN[c])
    else if (c === stack[stack.length - 1]) {
      stack.pop()
      if (stack.length === 0) return j + 1
    } else if (")]}".includes(c)) return j + 1 // unbalanced: give up here
  }
  return s.length
}

/** A line that starts a new top-level statement. */
const STATEMENT = /^(\/|export |import |const |let |function |class |type |interface |declare )/

/**
 * Scans from `i` at bracket depth 0 and stops before the first of `stops` met at depth 0:
 * "=" (an initializer, not `=>`, `==`, `>=` or `<=`), "=>" (an arrow), "{" (a body), "end" (the end of the
 * statement: a newline followed by a blank line or a new top-level construct, or a `;`), or "line" (the end
 * of the line: an interface member's).
 */
const scanTo = (s, i, stops) => {
  for (let j = i; j < s.length; j++) {
    const k = skipLiteral(s, j)
    if (k !== j) {
      j = k - 1
      continue
    }
    const c = s[j]
    if (c === "=" && s[j + 1] === ">") {
      if (stops.includes("=>")) return { at: j, stop: "=>" }
      j++
      continue
    }
    if (c === "=" && stops.includes("=") && s[j + 1] !== "=" && !"<>!=".includes(s[j - 1])) return { at: j, stop: "=" }
    if (c === "{" && stops.includes("{")) return { at: j, stop: "{" }
    if (OPEN[c]) {
      // `<` is a generic bracket only where a type can follow a name or start a type parameter list
      if (c === "<" && !/[\w$)\]>]\s*$|^\s*$|[=(,:|&]\s*$/.test(s.slice(Math.max(0, j - 40), j))) continue
      j = matching(s, j) - 1
      continue
    }
    if (c === "\n" && stops.includes("line")) return { at: j, stop: "line" }
    if (stops.includes("end")) {
      if (c === ";") return { at: j, stop: "end" }
      if (c === "\n") {
        const next = s.slice(j + 1).split("\n", 1)[0]
        if (/^\s*$/.test(next) || STATEMENT.test(next)) return { at: j, stop: "end" }
      }
    }
  }
  return { at: s.length, stop: "end" }
}

/** If an arrow function's head (`<T>(a: A): B =>`) starts at `i`, the index just past its `=>`. */
const arrowHead = (s, i) => {
  let j = i
  while (/\s/.test(s[j])) j++
  if (s[j] === "<") j = matching(s, j)
  while (/\s/.test(s[j])) j++
  if (s[j] !== "(") return -1
  j = matching(s, j)
  const r = scanTo(s, j, ["=>", "=", "{", "end"])
  return r.stop === "=>" ? r.at + 2 : -1
}

/**
 * A constant that is not a function (`export const x = value`), from `i` to the end of its statement: in
 * full, unless it is long or holds a function body, then with the arguments of its first call elided.
 */
const plainValue = (s, i, j) => {
  const text = s.slice(i, scanTo(s, j, ["end"]).at).trimEnd()
  if (text.split("\n").length <= 15 && !/=>\s*\{/.test(text)) return text
  const paren = text.indexOf("(")
  return paren === -1 ? text.split("\n")[0] + " /* … */" : `${text.slice(0, paren)}(/* … */)`
}

/**
 * An arrow function's head (`<A>(self: X, n: number): Y`) as a function type (`<A>(self: X, n: number) => Y`);
 * a head without a return type gets `next` (the next curried head's type) or `unknown`.
 */
const headAsType = (head, next) => {
  let j = 0
  while (/\s/.test(head[j])) j++
  if (head[j] === "<") j = matching(head, j)
  while (/\s/.test(head[j])) j++
  const close = matching(head, j)
  const rest = head.slice(close).trim()
  return `${head.slice(0, close).trim()} => ${rest.startsWith(":") ? rest.slice(1).trim() : next ?? "unknown"}`
}

/** An interface without its members documented `@internal` (a doc comment holding the tag, then the member). */
const withoutInternalMembers = (text) => {
  let out = text
  for (let m; (m = /^[ \t]*\/\*\*(?:(?!\*\/)[\s\S])*@internal[\s\S]*?\*\/[ \t]*\n/m.exec(out));) {
    // the member ends with its line, at bracket depth 0 (its type may span lines inside brackets)
    out = out.slice(0, m.index) + out.slice(scanTo(out, m.index + m[0].length, ["line"]).at + 1)
  }
  return out
}

/**
 * The signature of the declaration that starts at `i` (an `export ...` line), without bodies, written as
 * TypeScript that parses (a declaration file's forms: `declare function`, `declare const`, a class body
 * elided as a comment), so that `--check` can parse every code block.
 */
const signature = (s, i) => {
  const head = s.slice(i, i + 200)
  let m
  if ((m = /^export (const|let) ([\w$]+)\s*/.exec(head))) {
    const name = m[2]
    let j = i + m[0].length
    if (s[j] === ":") {
      // an annotated constant: its type is the signature
      return s.slice(i, scanTo(s, j + 1, ["=", "end"]).at).trimEnd().replace(/^export (const|let) /, "export declare const ")
    }
    // `=`, then an arrow function (its head, curried heads included) or a plain value (in full)
    j++
    const heads = []
    for (let from = j, end; (end = arrowHead(s, from)) !== -1; from = end) heads.push(s.slice(from, end - 2).trim())
    if (heads.length === 0) return plainValue(s, i, j)
    // one head: a function declaration, as it reads in a declaration file; curried: a constant of function type
    if (heads.length === 1) return `export declare function ${name}${heads[0]}`
    const type = heads.reduceRight((next, h) => headAsType(h, next), undefined)
    return `export declare const ${name}: ${type}`
  }
  if (/^export class /.test(head)) {
    const r = scanTo(s, i, ["{"])
    const close = matching(s, r.at)
    const body = s.slice(r.at + 1, close - 1).trim()
    return s.slice(i, r.at).trimEnd() + (body === "" ? " {}" : " { /* … */ }")
  }
  if (/^export (interface|declare namespace) /.test(head)) {
    const r = scanTo(s, i, ["{"])
    // members documented `@internal` are not part of the API
    return withoutInternalMembers(s.slice(i, matching(s, r.at)).trimEnd())
  }
  return s.slice(i, scanTo(s, i, ["end"]).at).replace(/;$/, "").trimEnd()
}

// --- doc comments ----------------------------------------------------------------------------------------------

const commentText = (raw) =>
  raw
    .replace(/^\/\*\*\s?/, "")
    .replace(/\s*\*\/$/, "")
    .split("\n")
    .map((l) => l.replace(/^\s*\* ?/, ""))
    .join("\n")
    .trim()

/** Splits a comment into its text and its tags (`@category x` → { category: "x" }). */
const parseComment = (raw) => {
  const tags = {}
  const text = []
  for (const line of commentText(raw).split("\n")) {
    const m = /^@(\w+)\s*(.*)$/.exec(line)
    if (m) tags[m[1]] = m[2].trim()
    else text.push(line)
  }
  return { text: text.join("\n").trim(), tags }
}

/** Every top-level doc comment followed by an export, and what it documents. */
const exportsOf = (s) => {
  const out = []
  const re = /^\/\*\*[\s\S]*?\*\//gm
  let m
  while ((m = re.exec(s))) {
    let j = m.index + m[0].length
    while (s[j] === "\n" || s[j] === " ") j++
    if (!s.startsWith("export ", j)) continue
    out.push({ comment: parseComment(m[0]), at: j })
  }
  return out
}

/** Local names imported from other modules: alias → { file, name }. */
const importsOf = (s, file) => {
  const map = new Map()
  for (const m of s.matchAll(/^import (?:type )?\{([^}]*)\} from "(\.[^"]+)"/gm)) {
    for (const part of m[1].split(",")) {
      const [name, alias] = part.trim().replace(/^type /, "").split(/\s+as\s+/)
      if (name) map.set(alias ?? name, { file: path.resolve(path.dirname(file), m[2]), name })
    }
  }
  return map
}

/** The declaration of `name` exported by `file` (an internal module), without its comment. */
const declarationIn = (file, name) => {
  const s = fs.readFileSync(file, "utf8")
  const m = new RegExp(`^export (interface|type) ${name}\\b`, "m").exec(s)
  return m === null ? undefined : signature(s, m.index)
}

// --- one module ---------------------------------------------------------------------------------------------

const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, "")
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, "")
    .replace(/\s/g, "-")

const moduleDoc = (moduleName) => {
  const file = path.join(src, `${moduleName}.ts`)
  const s = fs.readFileSync(file, "utf8")
  const header = /^\/\*\*[\s\S]*?\*\//.exec(s)
  const imports = importsOf(s, file)
  const symbols = new Map() // name → { comment, signatures }
  for (const { at, comment } of exportsOf(s)) {
    if ("internal" in comment.tags) continue
    const decl = signature(s, at)
    let names
    let shown = [decl]
    let m
    if ((m = /^export type \{([^}]*)\} from "([^"]+)"/.exec(decl))) {
      // a re-export of internal types: show their declarations
      const from = path.resolve(path.dirname(file), m[2])
      names = m[1].split(",").map((n) => n.trim()).filter(Boolean)
      shown = names.map((n) => declarationIn(from, n) ?? `export type { ${n} }`)
    } else if ((m = /^export type ([\w$]+)(<[^=]*>)? = ([\w$]+)(<[^;]*>)?$/.exec(decl)) && imports.has(m[3])) {
      // `export type PoolOptions = Options`, Options imported from an internal module
      const { file: from, name } = imports.get(m[3])
      names = [m[1]]
      shown = [declarationIn(from, name) ?? decl]
    } else {
      names = [/^export (?:declare )?(?:const|let|type|interface|class|namespace|function) ([\w$]+)/.exec(decl)?.[1]]
    }
    names.forEach((name, k) => {
      if (name === undefined) return
      const entry = symbols.get(name) ?? { comment, signatures: [] }
      if (entry.comment !== comment && comment.text !== "" && entry.comment.text === "") entry.comment = comment
      entry.signatures.push(names.length > 1 ? shown[k] : shown.join("\n\n"))
      symbols.set(name, entry)
    })
  }
  return { name: moduleName, header: header ? parseComment(header[0]).text : "", symbols }
}

/**
 * `{@link x}` becomes a link to x's entry: `Module.x`, else x in this module, else the module named x's
 * own x (`{@link WorkerError}` from Task), else any module's x; plain code when nothing matches.
 */
const linkify = (text, module, all) =>
  text.replace(/\{@link\s+([\w$.]+)\s*\}/g, (_, target) => {
    const has = (mod, name) => all.find((m) => m.name === mod)?.symbols.has(name) ?? false
    const [mod, name] = target.includes(".") ? target.split(".", 2) : [undefined, target]
    const home = mod !== undefined
      ? (has(mod, name) ? mod : undefined)
      : [module.name, name, ...all.map((m) => m.name)].find((m) => has(m, name))
    return home === undefined ? `\`${target}\`` : `[\`${target}\`](#${slug(`${home}.${name}`)})`
  })

const render = (modules) => {
  const lines = [
    "# API reference",
    "",
    "<!-- Generated by `npm run docs` (scripts/api-docs.mjs) from the doc comments in src/*.ts. Do not edit. -->",
    "",
    "Every module, and every symbol it exports, with its doc comment and its signature. Import the modules",
    "from the package root (`import { Task, WorkerPool } from \"effect-parallel\"`) or one by one",
    "(`import * as WorkerPool from \"effect-parallel/WorkerPool\"`). The [guide](guide.md) explains how they fit",
    "together.",
    ""
  ]
  for (const m of modules) {
    const names = [...m.symbols.keys()].map((n) => `[\`${n}\`](#${slug(`${m.name}.${n}`)})`)
    lines.push(`- [${m.name}](#${slug(m.name)}): ${names.join(", ")}`)
  }
  for (const m of modules) {
    lines.push("", `## ${m.name}`, "", linkify(m.header, m, modules))
    for (const [name, { comment, signatures }] of m.symbols) {
      const meta = [comment.tags.category, comment.tags.since && `since ${comment.tags.since}`].filter(Boolean)
      lines.push("", `### ${m.name}.${name}`, "")
      if (meta.length > 0) lines.push(`<sub>${meta.join(" · ")}</sub>`, "")
      lines.push("```ts", ...signatures.join("\n\n").split("\n"), "```")
      if (comment.text !== "") lines.push("", linkify(comment.text, m, modules))
    }
  }
  return lines.join("\n").replace(/\n{3,}/g, "\n\n") + "\n"
}

// --- every code block must parse ------------------------------------------------------------------------------

/**
 * The `ts` code blocks of a markdown text that TypeScript cannot parse, with the heading above each and the
 * parser's first message. Parsed by the `typescript` dev dependency (TypeScript 7: its compiler runs as a
 * separate process, reached through `typescript/unstable/sync`), syntax only: blocks are signatures and
 * examples that need not type-check on their own.
 */
const unparsable = async (text) => {
  const blocks = []
  let heading = "(top)"
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith("#")) heading = lines[i].replace(/^#+\s*/, "")
    if (lines[i] !== "```ts") continue
    const start = i + 1
    while (i + 1 < lines.length && lines[i + 1] !== "```") i++
    blocks.push({ heading, line: start + 1, code: lines.slice(start, i + 1).join("\n") })
    i++
  }
  const { API } = await import("typescript/unstable/sync")
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-docs-parse-"))
  try {
    const files = blocks.map((_, k) => path.join(dir, `block${k}.ts`))
    blocks.forEach((b, k) => fs.writeFileSync(files[k], b.code))
    const config = path.join(dir, "tsconfig.json")
    fs.writeFileSync(config, JSON.stringify({ compilerOptions: { noEmit: true, types: [], lib: ["ES2024"] }, files }))
    const api = new API({ cwd: dir })
    try {
      const program = api.updateSnapshot({ openProjects: [config] }).getProjects()[0].program
      return blocks.flatMap((b, k) => {
        const [first] = program.getSyntacticDiagnostics(files[k])
        if (first === undefined) return []
        const at = b.code.slice(0, first.pos).split("\n").length - 1
        return [{ ...b, message: `line ${b.line + at}: ${first.text}` }]
      })
    } finally {
      api.close()
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const index = fs.readFileSync(path.join(src, "index.ts"), "utf8")
const exported = [...index.matchAll(/^export \* as (\w+) from "\.\/(\w+)\.ts"/gm)].map((m) => m[2])
const names = [...ORDER.filter((n) => exported.includes(n)), ...exported.filter((n) => !ORDER.includes(n))]
const text = render(names.map(moduleDoc))

const broken = await unparsable(text)
if (broken.length > 0) {
  for (const b of broken) console.error(`docs/api.md, ${b.heading}, ${b.message}\n${b.code}\n`)
  console.error(`${broken.length} code block(s) of the API reference do not parse (scripts/api-docs.mjs renders them)`)
  process.exit(1)
}

if (process.argv.includes("--check")) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : ""
  if (current !== text) {
    console.error("docs/api.md is out of date with src/*.ts: run `npm run docs`")
    process.exit(1)
  }
  console.log(`docs/api.md is up to date, and its ${text.split("\n").filter((l) => l === "```ts").length} code blocks parse`)
} else {
  fs.writeFileSync(target, text)
  const count = names.reduce((n, m) => n + moduleDoc(m).symbols.size, 0)
  console.log(`wrote ${path.relative(root, target)}: ${names.length} modules, ${count} symbols`)
}
