// A user's program, run with a Node older than effect-parallel's `engines`: must fail at once, loudly.
import { Task } from "effect-parallel"

console.log(`imported: ${typeof Task.make}`)
