import { Effect, ManagedRuntime } from "effect"
const tree = process.argv[2]!
const root = tree === "base" ? "/tmp/h15/base" : "/work/wt-15"
const P = await import(`${root}/src/index.ts`)
const T = await import(`${root}/bench/tasks.ts`)
const rt = ManagedRuntime.make(P.WorkerPool.layerInProcess({ size: 2 }))
const heap = () => { (globalThis as any).gc(); (globalThis as any).gc(); return process.memoryUsage().heapUsed / 1e6 }
const seq = Array.from({ length: 20_000 }, (_, i) => i)
await rt.runPromise(Effect.forEach(seq, (x: number) => T.Double(x)))
const h0 = heap()
const out: Array<string> = []
for (let r = 0; r < 4; r++) {
  const t = performance.now()
  await rt.runPromise(Effect.forEach(seq, (x: number) => T.Double(x)))
  out.push(`${((performance.now() - t) * 1000 / seq.length).toFixed(1)}us ${(heap() - h0).toFixed(1)}MB`)
}
console.log(tree, out.join(" | "))
await rt.dispose()
