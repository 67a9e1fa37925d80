// Writes docs/api.md, the API reference, from the doc comments of the exported symbols of src/*.ts.
//
//   node scripts/api-docs.mjs           # writes docs/api.md
//   node scripts/api-docs.mjs --check   # exits 1 if docs/api.md is not what the sources give
//
// Why not typedoc: typedoc (0.28) needs the TypeScript compiler's JavaScript API, and this repository is on
// TypeScript 7, the native port, which has none (typedoc fails at start-up). This script reads the sources
// as text instead: every `/** ... */` at the top level followed by an `export`, with the declaration's
// signature (a function's head without its body; an interface or type in full). Public names that
// re-export an internal type (`export type PoolOptions = Options`) show the internal declaration, so that
// its fields' comments appear. Plain Node, no dependencies.
import * as fs from "node:fs"
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
 * "=" (an initializer, not `=>`, `==`, `>=` or `<=`), "=>" (an arrow), "{" (a body), or "end" (the end of the
 * statement: a newline followed by a blank line or a new top-level construct, or a `;`).
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
  return paren === -1 ? text.split("\n")[0] + " …" : `${text.slice(0, paren)}(…)`
}

/** The signature of the declaration that starts at `i` (an `export ...` line), without bodies. */
const signature = (s, i) => {
  const head = s.slice(i, i + 200)
  let m
  if ((m = /^export (const|let) [\w$]+\s*/.exec(head))) {
    let j = i + m[0].length
    if (s[j] === ":") {
      // an annotated constant: its type is the signature
      return s.slice(i, scanTo(s, j + 1, ["=", "end"]).at).trimEnd()
    }
    // `=`, then an arrow function (its head, curried heads included) or a plain value (in full)
    j++
    let end = arrowHead(s, j)
    if (end === -1) return plainValue(s, i, j)
    for (let next; (next = arrowHead(s, end)) !== -1;) end = next
    return s.slice(i, end - 2).trimEnd()
  }
  if (/^export class /.test(head)) {
    const r = scanTo(s, i, ["{"])
    const close = matching(s, r.at)
    const body = s.slice(r.at + 1, close - 1).trim()
    return s.slice(i, r.at).trimEnd() + (body === "" ? " {}" : " { … }")
  }
  if (/^export (interface|declare namespace) /.test(head)) {
    const r = scanTo(s, i, ["{"])
    // members marked `/** @internal */` are not part of the API
    return s.slice(i, matching(s, r.at)).trimEnd().replace(/^[ \t]*\/\*\* @internal \*\/\n.*\n/gm, "")
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

const index = fs.readFileSync(path.join(src, "index.ts"), "utf8")
const exported = [...index.matchAll(/^export \* as (\w+) from "\.\/(\w+)\.ts"/gm)].map((m) => m[2])
const names = [...ORDER.filter((n) => exported.includes(n)), ...exported.filter((n) => !ORDER.includes(n))]
const text = render(names.map(moduleDoc))

if (process.argv.includes("--check")) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : ""
  if (current !== text) {
    console.error("docs/api.md is out of date with src/*.ts: run `npm run docs`")
    process.exit(1)
  }
  console.log("docs/api.md is up to date")
} else {
  fs.writeFileSync(target, text)
  const count = names.reduce((n, m) => n + moduleDoc(m).symbols.size, 0)
  console.log(`wrote ${path.relative(root, target)}: ${names.length} modules, ${count} symbols`)
}
