/**
 * The task of `snowfall-matrices.ts`: the trace of the product of two random n x n matrices, drawn from
 * the task's own random stream. No top-level side effects.
 */
import { Effect, Schema } from "effect"
import { Task, TaskContext } from "../src/index.ts"

/** An n x n matrix of standard normal deviates (R's `matrix(rnorm(n * n), n)`), row-major. */
const rnormMatrix = (n: number, random: TaskContext.TaskRandom): Float64Array => {
  const m = new Float64Array(n * n)
  for (let k = 0; k < m.length; k++) m[k] = random.nextGaussian()
  return m
}

/** `sum(diag(A %*% B))`, computing the whole product as R does (n³ multiply-adds), then its trace. */
export const traceOfProduct = (a: Float64Array, b: Float64Array, n: number): number => {
  const c = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!
      for (let j = 0; j < n; j++) c[i * n + j]! += aik * b[k * n + j]!
    }
  }
  let trace = 0
  for (let i = 0; i < n; i++) trace += c[i * n + i]!
  return trace
}

/**
 * snowfall's `function(n) { A <- matrix(rnorm(n*n), n); B <- matrix(rnorm(n*n), n); sum(diag(A %*% B)) }`.
 * The matrices come from `TaskContext.random`, a function of the batch seed and this task's index only, so
 * the result does not depend on which worker runs the task or how the batch was cut into chunks.
 */
export const TraceOfProduct = Task.make("TraceOfProduct", {
  module: import.meta.url,
  payload: Schema.Int,
  success: Schema.Number,
  run: (n) =>
    Effect.gen(function*() {
      const { random } = yield* TaskContext.TaskContext
      const a = rnormMatrix(n, random)
      const b = rnormMatrix(n, random)
      return traceOfProduct(a, b, n)
    })
})
