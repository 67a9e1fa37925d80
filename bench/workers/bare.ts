// Bare worker_threads echo (a baseline, not a pool): replies [id, 2x] to every [id, x].
import { parentPort } from "node:worker_threads"
import { double } from "../kernels.ts"

const port = parentPort!
port.on("message", (m: [number, number]) => port.postMessage([m[0], double(m[1])]))
