/**
 * Turns the measurements of a run into docs/performance.md (tables) and docs/performance.svg (bars).
 */
import type { PoolAdapter, SumMode } from "./pools/types.ts"
import type { Measurement, Sizes, WorkloadId } from "./workloads.ts"

/** Every measurement of one cell (one workload, one pool, one worker count or mode) over the rounds. */
export interface CaseResult {
  readonly workload: WorkloadId
  readonly key: string
  readonly adapter: Pick<PoolAdapter, "id" | "label" | "kind">
  readonly workers: number
  readonly mode: SumMode | undefined
  readonly measurements: ReadonlyArray<Measurement>
  readonly notes: ReadonlyArray<string>
}

export interface RunInfo {
  readonly quick: boolean
  readonly date: Date
  readonly seconds: number
  readonly node: string
  readonly cpus: number
  readonly cpuModel: string
  readonly cores: number
  readonly loadStart: ReadonlyArray<number>
  readonly loadEnd: ReadonlyArray<number>
  readonly platform: string
  readonly rounds: number
  readonly workers: number
  readonly speedupWorkers: ReadonlyArray<number>
  readonly sizes: Sizes
  readonly workloads: ReadonlyArray<WorkloadId>
  readonly command: string
  /** Package versions (and this repository's commit). */
  readonly versions: Readonly<Record<string, string>>
  /** bench/startup.ts's measurements (with W5), when they ran. */
  readonly startup?: {
    readonly rounds: number
    readonly rows: ReadonlyArray<{ readonly name: string; readonly median: number; readonly min: number; readonly max: number }>
  } | undefined
}

// -------------------------------------------------------------------------------------------------------------
// statistics

/** A cell's summary: the median and range of every timed repetition of every round, or why there is none. */
export type Summary =
  | { readonly ok: true; readonly median: number; readonly min: number; readonly max: number; readonly n: number }
  | { readonly ok: false; readonly status: string; readonly detail: string }

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const rank: Record<Measurement["status"], number> = { ok: 0, hung: 1, error: 2, FAILED: 3 }

export const summarize = (c: CaseResult): Summary => {
  const bad = c.measurements.filter((m) => m.status !== "ok")
  if (bad.length > 0) {
    const worst = bad.reduce((a, b) => (rank[b.status] > rank[a.status] ? b : a))
    const of = c.measurements.length > 1 ? ` (${bad.length} of ${c.measurements.length} rounds)` : ""
    return { ok: false, status: worst.status, detail: `${worst.detail ?? ""}${of}` }
  }
  const samples = c.measurements.flatMap((m) => m.samples)
  if (samples.length === 0) return { ok: false, status: "error", detail: "no samples" }
  return { ok: true, median: median(samples), min: Math.min(...samples), max: Math.max(...samples), n: samples.length }
}

// -------------------------------------------------------------------------------------------------------------
// formatting

const num = (x: number): string => {
  if (x >= 1000) return Math.round(x).toLocaleString("en-US")
  if (x >= 100) return x.toFixed(0)
  if (x >= 10) return x.toFixed(1)
  return x.toFixed(2)
}

/** "median (min–max)", or the failure in bold with a footnote that says who and why. */
const cellOf = (s: Summary, footnote: (text: string) => string, who: string): string =>
  s.ok
    ? `${num(s.median)} (${num(s.min)}–${num(s.max)})`
    : `**${s.status}**${footnote(`${who}: ${s.status}: ${s.detail}`)}`

const ratio = (r: number): string => `${r.toFixed(2)}×`

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`)
  ].join("\n")

const bold = (kind: CaseResult["adapter"]["kind"], label: string) => (kind === "ours" ? `**${label}**` : label)

// -------------------------------------------------------------------------------------------------------------
// the markdown report

export const renderMarkdown = (info: RunInfo, results: ReadonlyArray<CaseResult>): string => {
  const notes: Array<string> = []
  const footnote = (text: string): string => {
    let i = notes.indexOf(text)
    if (i < 0) i = notes.push(text) - 1
    return `<sup>[${i + 1}]</sup>`
  }
  const of = (w: WorkloadId) => results.filter((r) => r.workload === w)
  /** A footnote when closing the pool went wrong after a valid measurement (the numbers stand). */
  const closeNotes = (c: CaseResult) =>
    c.notes.length > 0
      ? footnote(`${c.workload}, ${c.adapter.label}: ${c.notes[0]}${c.notes.length > 1 ? ` (${c.notes.length} times)` : ""}`)
      : ""

  /** The best peer's median of a set of cells; `higher`: bigger is better. */
  const bestPeer = (cells: ReadonlyArray<CaseResult>, higher: boolean, value: (s: Summary & { ok: true }) => number) => {
    let best: { label: string; value: number } | undefined
    for (const c of cells) {
      if (c.adapter.kind !== "peer") continue
      const s = summarize(c)
      if (!s.ok) continue
      const v = value(s)
      if (best === undefined || (higher ? v > best.value : v < best.value)) best = { label: c.adapter.label, value: v }
    }
    return best
  }
  /** Speed relative to the best peer: above 1 is faster. */
  const versus = (best: { value: number } | undefined, v: number, higher: boolean): string =>
    best === undefined ? "—" : ratio(higher ? v / best.value : best.value / v)

  const s = info.sizes
  const out: Array<string> = []
  const load = (l: ReadonlyArray<number>) => l.map((x) => x.toFixed(2)).join(" / ")
  out.push(`# Performance`)
  out.push("")
  out.push(
    `Generated by \`${info.command}\` (\`bench/\`) on ${info.date.toISOString().replace("T", " ").slice(0, 16)} UTC${
      info.quick ? " — **quick run**: smaller sizes and a single round, indicative only. `npm run bench` gives the full run." : "."
    }`
  )
  out.push("")
  out.push(`- Machine: ${info.platform}, ${info.cpuModel}, ${info.cpus} logical CPUs (\`os.availableParallelism()\` = ${info.cores})`)
  out.push(`- Node ${info.node}; load average (1 / 5 / 15 min) ${load(info.loadStart)} at the start, ${load(info.loadEnd)} at the end`)
  out.push(
    `- ${info.rounds} round${info.rounds === 1 ? "" : "s"}, ${info.workers} workers per pool (W3: ${
      info.speedupWorkers.join(", ")
    }), ${Math.round(info.seconds)} s in all`
  )
  out.push(`- Versions: ${Object.entries(info.versions).map(([k, v]) => `${k} ${v}`).join(", ")}`)
  out.push("")
  out.push(`![Bar chart of the results below](performance.svg)`)
  out.push("")
  out.push(`## Method`)
  out.push("")
  out.push(
    [
      `Every measurement (one workload, one pool, one worker count or transfer mode) runs in a fresh Node process`,
      `(\`bench/child.ts\`): it starts the pool, runs a warm-up, then the timed repetitions. Pools are interleaved`,
      `within a round (A B C, A B C, …). Cells show the median and the range (min–max) of every timed repetition`,
      `of every round. Every result is checked (each doubled value, the Mandelbrot checksum against the`,
      `sequential one, the array sum); a wrong result marks the cell **FAILED**, an exception **error**, and a`,
      `process that does not answer in time is killed and its cell reads **hung**. "vs best peer" is the speed`,
      `relative to the best of piscina, tinypool, workerpool, poolifier and Effect 4 RPC workers in the same`,
      `run: above 1.00× is faster. Each pool is used through its own API with default options, except a fixed`,
      `size (poolifier: \`FixedThreadPool\`; Effect 4 RPC workers: \`RpcClient.layerProtocolWorker({ size })\` over`,
      `\`NodeWorker.layer\`, one request per worker at a time); the peer worker files are in \`bench/workers/\`, the`,
      `effect-parallel tasks in \`bench/tasks.ts\`.`,
      `Baselines are not pools: "sequential" calls the function in the main thread, "bare worker_threads echo"`,
      `posts \`[id, x]\` to a worker that posts back \`[id, 2x]\` (no queue, no errors, no cancellation): the floor`,
      `of a round trip. Machine noise: a 2-core machine shared with other work; treat differences under 1.5× on`,
      `tiny tasks as noise.`,
      `Python rows are references, not peers (our users come from Python and compare): \`multiprocessing.Pool\``,
      `with its default start method, measured by \`bench/python/pool.py\` in a fresh \`python3\` process with the`,
      `same sizes, warm-up, repetitions and checks (left out when there is no python3).`
    ].join("\n")
  )
  out.push("")

  // W1 ---------------------------------------------------------------------------------------------------------
  if (info.workloads.includes("W1")) {
    const cells = of("W1")
    const best = bestPeer(cells, true, (x) => x.median)
    out.push(`## W1 throughput: ${s.w1Tasks.toLocaleString("en-US")} tiny tasks (x * 2), all submitted at once`)
    out.push("")
    out.push(
      `Per-task APIs: \`Promise.all(xs.map(x => pool.run(x)))\` and its equivalents; effect-parallel per task:`,
      `\`Effect.forEach(xs, (x) => Double(x), { concurrency: "unbounded" })\`; effect-parallel map:`,
      `\`WorkerPool.map(Double, xs)\` (adaptive chunks). Warm-up: ${s.w1Warmup.toLocaleString("en-US")} tasks.`
    )
    out.push("")
    out.push(table(
      ["pool", "tasks/s", "total ms", "vs best peer"],
      cells.map((c) => {
        const x = summarize(c)
        return [
          bold(c.adapter.kind, c.adapter.label) + closeNotes(c),
          cellOf(x, footnote, `W1, ${c.adapter.label}`),
          x.ok ? num((s.w1Tasks / x.median) * 1000) : "",
          x.ok && c.adapter.id !== "sequential" ? versus(best, x.median, true) : "—"
        ]
      })
    ))
    out.push("")
    if (best) out.push(`Best peer: ${best.label}.`, "")
    const python = cells.find((c) => c.adapter.id === "python-map")
    const pythonSummary = python === undefined ? undefined : summarize(python)
    if (pythonSummary?.ok) {
      const maps = cells.filter((c) => c.adapter.kind === "ours" && c.adapter.id.endsWith("-map"))
      const vs = maps.flatMap((c) => {
        const x = summarize(c)
        return x.ok ? [`${c.adapter.label} ${ratio(x.median / pythonSummary.median)}`] : []
      })
      if (vs.length > 0) out.push(`\`map\` against Python's \`Pool.map\` in the same run (above 1.00× is faster): ${vs.join(", ")}.`, "")
    }
  }

  // W2 ---------------------------------------------------------------------------------------------------------
  if (info.workloads.includes("W2")) {
    const cells = of("W2")
    const best = bestPeer(cells, false, (x) => x.median)
    out.push(`## W2 latency: ${s.w2Tasks.toLocaleString("en-US")} tasks, each awaited before the next`)
    out.push("")
    out.push(`Microseconds per round trip (lower is better). Warm-up: ${s.w2Warmup.toLocaleString("en-US")} tasks.`)
    out.push("")
    out.push(table(
      ["pool", "µs per task", "vs best peer"],
      cells.map((c) => {
        const x = summarize(c)
        return [
          bold(c.adapter.kind, c.adapter.label) + closeNotes(c),
          cellOf(x, footnote, `W2, ${c.adapter.label}`),
          x.ok ? versus(best, x.median, false) : "—"
        ]
      })
    ))
    out.push("")
    if (best) out.push(`Best peer: ${best.label}.`, "")
  }

  // W3 ---------------------------------------------------------------------------------------------------------
  if (info.workloads.includes("W3")) {
    const cells = of("W3")
    const seq = cells.find((c) => c.adapter.id === "sequential")
    const seqSummary = seq === undefined ? undefined : summarize(seq)
    const t1 = seqSummary?.ok ? seqSummary.median : undefined
    const ps = info.speedupWorkers
    const pmax = ps[ps.length - 1]!
    const atP = (p: number) => cells.filter((c) => c.adapter.kind !== "baseline" && c.workers === p)
    const bestAt = bestPeer(atP(pmax), false, (x) => x.median)
    out.push(
      `## W3 CPU speedup: Mandelbrot ${s.width}×${s.height}, ${s.maxIter} iterations, one task per row`
    )
    out.push("")
    out.push(
      `Sp = T1 / Tp, where T1 is the sequential time in the main thread; Ep = Sp / p. Per task: one task per row,`,
      `all submitted at once (effect-parallel: \`Effect.forEach(rows, (r) => MandelbrotRow(r), { concurrency: "unbounded" })\`);`,
      `map: \`WorkerPool.map(MandelbrotRow, rows)\`. Every image's checksum is compared with the sequential one.`
    )
    out.push("")
    if (seq !== undefined && seqSummary !== undefined) {
      out.push(`Sequential (T1): ${cellOf(seqSummary, footnote, "W3, sequential")} ms${closeNotes(seq)}.`, "")
    }
    const labels = [...new Map(cells.filter((c) => c.adapter.kind !== "baseline").map((c) => [c.adapter.id, c.adapter])).values()]
    out.push(table(
      ["pool", ...ps.flatMap((p) => [`${p} worker${p === 1 ? "" : "s"}, ms`, `S${p}`]), `E${pmax}`, `S${pmax} vs best peer`],
      labels.map((a) => {
        const row = [bold(a.kind, a.label)]
        let last: Summary | undefined
        for (const p of ps) {
          const c = cells.find((x) => x.adapter.id === a.id && x.workers === p)
          if (c === undefined) {
            row.push("n/a", "")
            continue
          }
          const x = summarize(c)
          last = x
          if (!row[0]!.includes(closeNotes(c))) row[0] += closeNotes(c)
          row.push(cellOf(x, footnote, `W3, ${a.label} on ${p}`), x.ok && t1 !== undefined ? (t1 / x.median).toFixed(2) : "")
        }
        row.push(last?.ok && t1 !== undefined ? (t1 / last.median / pmax).toFixed(2) : "")
        row.push(last?.ok ? versus(bestAt, last.median, false) : "—")
        return row
      })
    ))
    out.push("")
    if (bestAt) out.push(`Best peer on ${pmax} workers: ${bestAt.label}.`, "")
  }

  // W4 ---------------------------------------------------------------------------------------------------------
  if (info.workloads.includes("W4")) {
    const cells = of("W4")
    const mib = (s.w4Length * 8) / (1024 * 1024)
    const modes: ReadonlyArray<SumMode> = ["copy", "transfer", "shared"]
    const bests = new Map(modes.map((m) => [m, bestPeer(cells.filter((c) => c.mode === m), false, (x) => x.median)]))
    out.push(`## W4 large data: a ${mib} MiB Float64Array summed in a worker`)
    out.push("")
    out.push(
      `Milliseconds per call, from submitting to the result (lower is better), filling the array excluded. copy:`,
      `structured clone; transfer: the buffer in the transfer list (checked: the caller's array is detached`,
      `afterwards); shared memory: the peers get a Float64Array over a SharedArrayBuffer in the payload, which`,
      `structured clone shares instead of copying; effect-parallel passes its \`SharedArray\` (made and filled`,
      `once, outside the clock) and the worker sums the live view. Processes`,
      `have neither transfer nor shared memory. Cells: median (min–max), then the speed relative to the best`,
      `peer in the same column.`
    )
    out.push("")
    const main = cells.find((c) => c.mode === "main")
    if (main !== undefined) {
      out.push(`The sum alone in the main thread: ${cellOf(summarize(main), footnote, "W4, main thread")} ms${closeNotes(main)}.`, "")
    }
    const labels = [...new Map(cells.filter((c) => c.mode !== "main").map((c) => [c.adapter.id, c.adapter])).values()]
    out.push(table(
      ["pool", "copy, ms", "transfer, ms", "shared memory, ms"],
      labels.map((a) => {
        const row = [bold(a.kind, a.label)]
        for (const m of modes) {
          const c = cells.find((x) => x.adapter.id === a.id && x.mode === m)
          if (c === undefined) {
            row.push("n/a")
            continue
          }
          if (!row[0]!.includes(closeNotes(c))) row[0] += closeNotes(c)
          const x = summarize(c)
          const cell = cellOf(x, footnote, `W4, ${a.label}, ${m}`)
          row.push(x.ok ? `${cell} · ${versus(bests.get(m), x.median, false)}` : cell)
        }
        return row
      })
    ))
    out.push("")
  }

  // W5 ---------------------------------------------------------------------------------------------------------
  if (info.workloads.includes("W5")) {
    const cells = of("W5")
    const best = bestPeer(cells, false, (x) => x.median)
    out.push(`## W5 start-up: create a pool of ${info.workers}, run one task, close it`)
    out.push("")
    out.push(
      `Milliseconds for the whole cycle (lower is better); loading the pool's library in the parent is not`,
      `counted (it happens once per program), loading it in every worker is. One warm-up cycle first.`,
      `effect-parallel runs from its sources here, as in the other workloads (\`src/\`, TypeScript files loaded one`,
      `by one with type stripping); what users install is the bundled build, measured in the start-up section below.`
    )
    out.push("")
    out.push(table(
      ["pool", "ms", "vs best peer"],
      cells.map((c) => {
        const x = summarize(c)
        return [
          bold(c.adapter.kind, c.adapter.label) + closeNotes(c),
          cellOf(x, footnote, `W5, ${c.adapter.label}`),
          x.ok ? versus(best, x.median, false) : "—"
        ]
      })
    ))
    out.push("")
    if (best) out.push(`Best peer: ${best.label}.`, "")
  }

  if (info.startup !== undefined) {
    const st = info.startup
    const get = (name: string) => st.rows.find((r) => r.name === name)?.median
    out.push(`## Start-up, broken down`)
    out.push("")
    out.push(
      `\`bench/startup.ts\`, ${st.rounds} rounds, every program a fresh process, on the built package (\`dist/\`, as users`,
      `install it). Times since the process started unless said otherwise; medians (min–max). The floor is a program`,
      `that imports \`effect/Effect\` + \`effect/Schema\` and starts two workers that import the same (compile cache on,`,
      `as ours): the physical floor of workers that run Effect tasks. "Worker" rows time one fresh worker isolate`,
      `step by step: what an effect-parallel worker loads before its first task.`
    )
    out.push("")
    out.push(table(["measurement", "ms"], st.rows.map((r) => [r.name, `${num(r.median)} (${num(r.min)}–${num(r.max)})`])))
    out.push("")
    const floor = get("floor: workers ready after the imports")
    const ours = get("W5 threads: pool start to first result")
    const imp = get("import effect-parallel")
    const lines: Array<string> = []
    if (floor !== undefined && ours !== undefined) {
      lines.push(`W5 on threads, pool start to first result: ${num(ours)} ms, ${(ours / floor).toFixed(2)}× the floor's workers (${num(floor)} ms).`)
    }
    if (imp !== undefined) lines.push(`Importing effect-parallel in the main thread costs ${num(imp)} ms on top of \`effect/Effect\` + \`effect/Schema\`.`)
    if (lines.length > 0) out.push(lines.join(" "), "")
  }

  if (notes.length > 0) {
    out.push(`## Notes`)
    out.push("")
    notes.forEach((n, i) => out.push(`${i + 1}. ${n.replace(/\|/g, "\\|")}`))
    out.push("")
  }
  out.push(`Regenerate: \`npm run bench\` (full, about 10 minutes on 2 cores) or \`npm run bench:quick\`.`)
  out.push("")
  out.push(`The targets, where each stands, the profiles behind the gaps and what each optimization bought: [performance-notes.md](performance-notes.md).`)
  out.push("")
  return out.join("\n")
}

// -------------------------------------------------------------------------------------------------------------
// the SVG chart (hand-written, no dependencies)

interface Bar {
  readonly label: string
  readonly kind: CaseResult["adapter"]["kind"]
  readonly summary: Summary
  /** The value drawn, when the summary is ok. */
  readonly value: number
}

interface Panel {
  readonly title: string
  readonly bars: ReadonlyArray<Bar>
  readonly format: (v: number) => string
  /** A vertical reference line (W3: the ideal speedup). */
  readonly reference?: { readonly value: number; readonly label: string } | undefined
}

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

const colors: Record<CaseResult["adapter"]["kind"], string> = {
  ours: "#2563eb",
  peer: "#9ca3af",
  baseline: "#10b981",
  reference: "#f59e0b"
}

export const renderSvg = (info: RunInfo, results: ReadonlyArray<CaseResult>): string => {
  const s = info.sizes
  const of = (w: WorkloadId) => results.filter((r) => r.workload === w)
  const bar = (c: CaseResult, label: string, value: (x: Summary & { ok: true }) => number): Bar => {
    const summary = summarize(c)
    return { label, kind: c.adapter.kind, summary, value: summary.ok ? value(summary) : 0 }
  }
  const panels: Array<Panel> = []
  if (info.workloads.includes("W1")) {
    panels.push({
      title: `W1 throughput: ${s.w1Tasks.toLocaleString("en-US")} tiny tasks at once — tasks/s, higher is better`,
      bars: of("W1").filter((c) => c.adapter.id !== "sequential").map((c) => bar(c, c.adapter.label, (x) => x.median)),
      format: (v) => Math.round(v).toLocaleString("en-US")
    })
  }
  if (info.workloads.includes("W2")) {
    panels.push({
      title: `W2 latency: sequential round trips — µs per task, lower is better`,
      bars: of("W2").map((c) => bar(c, c.adapter.label, (x) => x.median)),
      format: (v) => v.toFixed(1)
    })
  }
  if (info.workloads.includes("W3")) {
    const cells = of("W3")
    const seq = cells.find((c) => c.adapter.id === "sequential")
    const seqSummary = seq === undefined ? undefined : summarize(seq)
    const ps = info.speedupWorkers
    const pmax = ps[ps.length - 1]!
    if (seqSummary?.ok) {
      const t1 = seqSummary.median
      panels.push({
        title: `W3 speedup: Mandelbrot ${s.width}×${s.height}, one task per row, ${pmax} workers — T1 / T${pmax}, higher is better`,
        bars: cells.filter((c) => c.adapter.kind !== "baseline" && c.workers === pmax).map((c) =>
          bar(c, c.adapter.label, (x) => t1 / x.median)
        ),
        format: (v) => `${v.toFixed(2)}×`,
        reference: { value: pmax, label: `ideal ${pmax}×` }
      })
    }
  }
  if (info.workloads.includes("W4")) {
    const mib = (s.w4Length * 8) / (1024 * 1024)
    const name: Record<SumMode, string> = { copy: "copy", transfer: "transfer", shared: "SAB view", main: "main thread" }
    const order: ReadonlyArray<SumMode> = ["main", "shared", "transfer", "copy"]
    const cells = [...of("W4")].sort((a, b) => order.indexOf(a.mode!) - order.indexOf(b.mode!))
    panels.push({
      title: `W4 large data: sum a ${mib} MiB Float64Array in a worker — ms, lower is better`,
      bars: cells.map((c) => bar(c, c.mode === "main" ? "sum alone, main thread" : `${c.adapter.label} · ${name[c.mode!]}`, (x) => x.median)),
      format: (v) => v.toFixed(1)
    })
  }
  if (info.workloads.includes("W5")) {
    panels.push({
      title: `W5 start-up: pool of ${info.workers}, one task, close — ms, lower is better`,
      bars: of("W5").map((c) => bar(c, c.adapter.label, (x) => x.median)),
      format: (v) => v.toFixed(0)
    })
  }

  const width = 860
  const labelWidth = 270
  const barMax = 470
  const rowHeight = 17
  const out: Array<string> = []
  let y = 58
  for (const p of panels) {
    out.push(`<text x="10" y="${y}" class="title">${escape(p.title)}</text>`)
    y += 10
    const top = y
    const maxValue = Math.max(...p.bars.map((b) => b.value), p.reference?.value ?? 0) || 1
    const scale = barMax / maxValue
    for (const b of p.bars) {
      const cy = y + rowHeight / 2
      out.push(`<text x="${labelWidth - 6}" y="${cy + 4}" class="label" text-anchor="end">${escape(b.label)}</text>`)
      if (b.summary.ok) {
        const w = Math.max(1, b.value * scale)
        out.push(`<rect x="${labelWidth}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowHeight - 4}" fill="${colors[b.kind]}"/>`)
        out.push(`<text x="${(labelWidth + w + 4).toFixed(1)}" y="${cy + 4}" class="value">${escape(p.format(b.value))}</text>`)
      } else {
        out.push(`<text x="${labelWidth + 4}" y="${cy + 4}" class="bad">${escape(b.summary.status)}</text>`)
      }
      y += rowHeight
    }
    if (p.reference !== undefined) {
      const x = labelWidth + p.reference.value * scale
      out.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${y}" class="ref"/>`)
      out.push(`<text x="${(x - 4).toFixed(1)}" y="${y - 3}" class="value" text-anchor="end">${escape(p.reference.label)}</text>`)
    }
    y += 26
  }
  const height = y + 4
  const subtitle = `${info.quick ? "QUICK RUN (smaller sizes, 1 round) — " : ""}Node ${info.node}, ${info.cores} cores, ${info.workers} workers, ` +
    `load ${info.loadStart.map((l) => l.toFixed(2)).join(" ")}, ${info.date.toISOString().slice(0, 10)}`
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">`,
    `<style>`,
    `.title { font-size: 13px; font-weight: 600; fill: #111827 }`,
    `.label { font-size: 11px; fill: #374151 }`,
    `.value { font-size: 10px; fill: #374151 }`,
    `.bad { font-size: 11px; font-weight: 700; fill: #dc2626 }`,
    `.ref { stroke: #6b7280; stroke-dasharray: 4 3 }`,
    `.head { font-size: 16px; font-weight: 700; fill: #111827 }`,
    `.sub { font-size: 11px; fill: #6b7280 }`,
    `</style>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="22" class="head">effect-parallel vs peers</text>`,
    `<text x="10" y="38" class="sub">${escape(subtitle)}</text>`,
    `<rect x="${width - 370}" y="12" width="10" height="10" fill="${colors.ours}"/><text x="${width - 356}" y="21" class="label">effect-parallel</text>`,
    `<rect x="${width - 265}" y="12" width="10" height="10" fill="${colors.peer}"/><text x="${width - 251}" y="21" class="label">peers</text>`,
    `<rect x="${width - 200}" y="12" width="10" height="10" fill="${colors.baseline}"/><text x="${width - 186}" y="21" class="label">baselines</text>`,
    `<rect x="${width - 110}" y="12" width="10" height="10" fill="${colors.reference}"/><text x="${width - 96}" y="21" class="label">Python</text>`,
    ...out,
    `</svg>`,
    ``
  ].join("\n")
}
