/**
 * The ledger the cluster fixtures write (`test/fixtures/cluster-tasks.ts`, `Square`): a line when a task
 * starts, ends, or is interrupted, with the runner's pid and the time, so that a test can see which tasks
 * ran where, and which ran twice.
 */
import { readFileSync } from "node:fs"

export interface Line {
  readonly kind: "start" | "end" | "interrupted"
  readonly n: number
  readonly pid: number
  readonly at: number
}

/** The ledger's lines so far (none when the file does not exist yet). */
export const readLedger = (file: string): Array<Line> => {
  let text = ""
  try {
    text = readFileSync(file, "utf8")
  } catch {
    return []
  }
  return text.split("\n").filter((l) => l !== "").map((l) => {
    const [kind, n, pid, at] = l.split(" ")
    return { kind: kind as Line["kind"], n: Number(n), pid: Number(pid), at: Number(at) }
  })
}
