import { Effect, ManagedRuntime } from "effect"
const tree = process.argv[2]!
const root = tree === "base" ? "/tmp/h15/base" : "/work/wt-15"
const P = await import(`${root}/src/index.ts`)
const T = await import(`${root}/bench/tasks.ts`)
const rt = ManagedRuntime.make(P.WorkerPool.layerInProcess({ size: 2 }))
const seq = Array.from({ length: 40_000 }, (_, i) => i)
await rt.runPromise(Effect.forEach(seq, (x: number) => T.Double(x)))
await rt.dispose()
