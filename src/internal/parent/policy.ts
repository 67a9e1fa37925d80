/**
 * Dispatch policy, apart from the mechanism in `core.ts`: how many jobs a worker gets ahead of the one
 * it runs, and how many items go into one `map` chunk. Both adapt to measured task durations.
 *
 * - Sending ahead hides the round trip for fine-grained tasks (with ~0.3 ms tasks, one-in-flight pools
 *   lose a third of a core), but queued-ahead work cannot move to an idle worker. So a worker gets ahead
 *   only about 1 ms of measured work: many tiny tasks, none behind tasks of a millisecond or more, and
 *   none before anything is measured.
 * - A chunk aims at about 10 ms of work (joblib's batch_size="auto" idea at a finer grain): large enough
 *   that per-message costs vanish, small enough for balancing and prompt interruption. With a known
 *   input length, chunks are also capped so every worker gets several.
 *
 * @internal
 */
import type { ResolvedOptions } from "../options.ts"
import type { TaskRef } from "../service.ts"

const AHEAD_MILLIS = 1
const CHUNK_TARGET_MILLIS = 10
const MAX_CHUNK = 16_384
const ALPHA_UP = 0.3
const ALPHA_DOWN = 0.6

/**
 * An EWMA that falls faster than it rises: cold-start outliers (JIT warm-up, a first import) overestimate
 * task durations and keep chunks tiny; they should fade in a few samples, not a few dozen.
 */
const blend = (prev: number | undefined, sample: number): number =>
  prev === undefined ? sample : prev + (sample < prev ? ALPHA_DOWN : ALPHA_UP) * (sample - prev)

export class Policy {
  /** EWMA of milliseconds per job, pool-wide. */
  private jobMillis: number | undefined
  /** EWMA of milliseconds per item, per task. */
  private readonly itemMillis = new WeakMap<TaskRef, number>()

  private readonly options: ResolvedOptions

  constructor(options: ResolvedOptions) {
    this.options = options
  }

  observe(task: TaskRef, elapsed: number, items: number, _chunk: boolean): void {
    this.jobMillis = blend(this.jobMillis, Math.max(elapsed, 0.001))
    if (items > 0) this.itemMillis.set(task, blend(this.itemMillis.get(task), Math.max(elapsed / items, 0.0001)))
  }

  /** Most jobs a worker may hold (running + queued ahead). */
  inflightLimit(): number {
    // Nothing measured yet: send nothing ahead, a long task could hold a queued one hostage.
    if (this.jobMillis === undefined) return 1
    return Math.max(1, Math.min(this.options.prefetch, 1 + Math.floor(AHEAD_MILLIS / this.jobMillis)))
  }

  /** Items for the next chunk of `task`; `remaining` is the number of items left when known. */
  chunkSize(task: TaskRef, remaining: number | undefined, workers: number): number {
    const perItem = this.itemMillis.get(task)
    let size = perItem === undefined ? 1 : Math.floor(CHUNK_TARGET_MILLIS / perItem)
    if (remaining !== undefined) size = Math.min(size, Math.ceil(remaining / (workers * 4)))
    size = Math.min(size, MAX_CHUNK, this.options.maxTasksPerWorker)
    return Math.max(1, size)
  }
}
