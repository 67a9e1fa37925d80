// poolifier cluster worker (a process): one task, called with `pool.execute(row)` (bench/w3-floor.ts only).
import { ClusterWorker } from "poolifier"
import type { RowPayload } from "../pools/types.ts"
import { mandelbrotRow } from "../kernels.ts"

export default new ClusterWorker<RowPayload, number>((p) => mandelbrotRow(p!.y, p!.width, p!.height, p!.maxIter))
