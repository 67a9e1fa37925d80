/**
 * One measurement in a fresh process: `node bench/child.ts '<CaseSpec as JSON>'`. Started by run.ts.
 *
 * Prints `RESULT <Measurement as JSON>` as soon as the measurement is done, then `NOTE <text>` if closing
 * the pool went wrong, and exits. Everything else it or the pool prints goes to stderr.
 */
import { loadFile } from "./pools/index.ts"
import type { CaseSpec, Measurement } from "./workloads.ts"
import { measure } from "./workloads.ts"

const spec = JSON.parse(process.argv[2] ?? "{}") as CaseSpec
const adapter = (await loadFile(spec.file)).find((a) => a.id === spec.pool)
if (adapter === undefined) {
  process.stdout.write(`RESULT ${JSON.stringify({ status: "error", samples: [], detail: `no pool ${spec.pool} in ${spec.file}` })}\n`)
  process.exit(0)
}

const note = await measure(adapter, spec, (m: Measurement) => {
  process.stdout.write(`RESULT ${JSON.stringify(m)}\n`)
})
if (note !== undefined) process.stdout.write(`NOTE ${note}\n`)
// a pool that left a handle open (or never settled its close) must not keep the child alive
process.exit(0)
