// The W5 task in a module of its own, as effect-parallel users write them: importing only what a task needs.
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { Task } from "effect-parallel"

export const Double = Task.make("Double", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (x) => Effect.succeed(x * 2)
})
