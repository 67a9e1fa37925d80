// Checks every relative link in README.md, examples/README.md and docs/*.md: the file (or folder) it
// points to must exist, and a `#heading` anchor must match a heading of the target page (GitHub's
// anchors). External links (http:, https:, mailto:) are not fetched. Exits 1 and lists the broken links.
//
//   node scripts/check-links.mjs [files...]   # default: README.md examples/README.md docs/*.md
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")

const defaultFiles = () => [
  "README.md",
  "examples/README.md",
  ...fs.readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)
]

/** The lines of a Markdown file outside fenced code blocks, with their line numbers. */
const proseLines = (text) => {
  const out = []
  let fence = undefined
  text.split("\n").forEach((line, k) => {
    const m = /^\s*(```+|~~~+)/.exec(line)
    if (m) {
      if (fence === undefined) fence = m[1][0]
      else if (m[1][0] === fence) fence = undefined
      return
    }
    if (fence === undefined) out.push({ line, number: k + 1 })
  })
  return out
}

/** [start, end) ranges of the inline code spans of a line. */
const codeSpans = (line) => {
  const spans = []
  const re = /(`+)[\s\S]*?\1/g
  let m
  while ((m = re.exec(line))) spans.push([m.index, m.index + m[0].length])
  return spans
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, "")
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, "")
    .replace(/\s/g, "-")

/** Heading text as GitHub renders it: links become their text, code and emphasis marks go. */
const headingText = (raw) => raw.replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/[`*]/g, "").replace(/\s+#+\s*$/, "")

const anchorCache = new Map()

/** Every anchor of a Markdown file: its headings (duplicates numbered as GitHub does) and `<a id|name>`. */
const anchorsOf = (file) => {
  if (anchorCache.has(file)) return anchorCache.get(file)
  const anchors = new Set()
  const seen = new Map()
  for (const { line } of proseLines(fs.readFileSync(file, "utf8"))) {
    const h = /^#{1,6}\s+(.*)$/.exec(line)
    if (h) {
      const base = slug(headingText(h[1]))
      const n = seen.get(base) ?? 0
      seen.set(base, n + 1)
      anchors.add(n === 0 ? base : `${base}-${n}`)
    }
    for (const a of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(a[1])
  }
  anchorCache.set(file, anchors)
  return anchors
}

/** Inline links and images `[text](target "title")`, and reference definitions `[ref]: target`. */
const linksOf = (line) => {
  const found = []
  const spans = codeSpans(line)
  const inCode = (i) => spans.some(([a, b]) => i >= a && i < b)
  for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    if (!inCode(m.index)) found.push(m[1])
  }
  const ref = /^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(line)
  if (ref) found.push(ref[1])
  return found
}

const problems = []
let checked = 0
const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : defaultFiles()

for (const rel of files) {
  const file = path.resolve(root, rel)
  if (!fs.existsSync(file)) {
    problems.push(`${rel}: no such file`)
    continue
  }
  for (const { line, number } of proseLines(fs.readFileSync(file, "utf8"))) {
    for (const link of linksOf(line)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue // http:, https:, mailto:, …
      checked++
      const [rawPath, anchor] = link.split("#", 2)
      const targetPath = rawPath === "" ? file : path.resolve(path.dirname(file), decodeURIComponent(rawPath))
      const where = `${rel}:${number}: ${link}`
      if (!fs.existsSync(targetPath)) {
        problems.push(`${where}: ${path.relative(root, targetPath)} does not exist`)
        continue
      }
      if (anchor !== undefined && anchor !== "") {
        if (!targetPath.endsWith(".md")) continue // line anchors into source files (#L10) are not checked
        if (!anchorsOf(targetPath).has(decodeURIComponent(anchor))) {
          problems.push(`${where}: no heading #${anchor} in ${path.relative(root, targetPath)}`)
        }
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`${problems.length} broken link(s):\n${problems.map((p) => `  ${p}`).join("\n")}`)
  process.exit(1)
}
console.log(`${checked} relative links in ${files.length} files: all resolve`)
