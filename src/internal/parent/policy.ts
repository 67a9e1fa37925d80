/**
 * Dispatch policy, apart from the mechanism in `core.ts`: how many jobs a worker gets ahead of the one
 * it runs, and how many items go into one `map` chunk. Both adapt to measured task durations.
 *
 * - Sending ahead hides the round trip for fine-grained tasks (with ~0.3 ms tasks, one-in-flight pools
 *   lose a third of a core), but queued-ahead work cannot move to an idle worker. So a worker gets ahead
 *   only about 1 ms of measured work: many tiny tasks, none behind tasks of a millisecond or more, and
 *   none before anything is measured.
 * - A chunk aims at a target duration of work (joblib's batch_size="auto" idea), bounded by how the
 *   known input spreads over the workers. The constants are the executor's: a local pool aims at about
 *   10 ms (large enough that per-message costs vanish, small enough for balancing and prompt interruption),
 *   with every worker getting several chunks; the cluster at about 200 ms, because a message costs
 *   milliseconds, also with every worker getting several chunks.
 * - The share bound makes chunks shrink towards the end of a known input (each a quarter of a worker's
 *   share of what is left), so that the workers finish together. It never cuts a chunk below `floorMillis` of
 *   measured work (about a millisecond locally, 20 ms on the cluster, 100 ms with persisted delivery): finer
 *   than that buys no balance, and 100,000 tiny items would otherwise go out as some ninety ever smaller
 *   chunks, each a round trip, instead of a handful.
 *
 * @internal
 */
import type { TaskRef } from "../service.ts"

/** How an executor sizes chunks. */
export interface ChunkTuning {
  /** Milliseconds of work a chunk aims at, once a task's time per item is measured. */
  readonly targetMillis: number
  /** The largest chunk. */
  readonly maxItems: number
  /** With a known input: chunks at most this small a share of it, remaining / (workers × n), so that every worker gets n. */
  readonly atMostShare: number
  /** With an input of unknown length: chunks of at least this many items. */
  readonly atLeastUnknown: number
  /**
   * Once a task's time per item is measured, the share bound never cuts a chunk below this many milliseconds
   * of work (a message that costs more than the work in it is not worth sending apart).
   */
  readonly floorMillis: number
}

/** The local pool (threads, processes, in-process). */
export const localChunks: ChunkTuning = {
  targetMillis: 10,
  maxItems: 16_384,
  atMostShare: 4,
  atLeastUnknown: 1,
  floorMillis: 1
}

/**
 * The cluster: a message costs about a millisecond (volatile) to ten (persisted), so a chunk aims at 200 ms
 * of work; with a known input, at most a quarter of a worker's share of what remains, so that every worker
 * gets several chunks and the last ones are small (guided self-scheduling: items of very unequal cost, such
 * as the rows of a Mandelbrot image, do not leave one worker with a heavy last chunk while the others idle);
 * but never under 20 ms of measured time (message cost included), so tiny items still go a few thousand a
 * message.
 */
export const clusterChunks: ChunkTuning = {
  targetMillis: 200,
  maxItems: 10_000,
  atMostShare: 4,
  atLeastUnknown: 64,
  floorMillis: 20
}

/**
 * Chunks of a `map` with persisted delivery: as the cluster's (`clusterChunks`), but never under 100 ms of
 * measured time instead of 20. A persisted message costs about 6 transactions and a stored reply besides
 * its round trip, all of it CPU on the same machines as the work: a Mandelbrot image (1,200 rows of ~0.2 ms)
 * went out in 24–27 messages and took 431–443 ms; with this floor, in 8, and 400 ms (`bench/cluster-image.ts`,
 * docs/performance-notes.md, issue 18, fourth sitting). The last chunks are larger, which costs balance only
 * where items are tiny (a chunk of 100 ms at most).
 */
export const persistedChunks: ChunkTuning = { ...clusterChunks, floorMillis: 100 }

const AHEAD_MILLIS = 1
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

  private readonly tuning: ChunkTuning
  private readonly limits: { readonly prefetch: number; readonly maxTasksPerWorker: number }

  constructor(tuning: ChunkTuning, limits: { readonly prefetch: number; readonly maxTasksPerWorker: number }) {
    this.tuning = tuning
    this.limits = limits
  }

  /** A job of `items` items of `task` took `elapsed` milliseconds. */
  observe(task: TaskRef, elapsed: number, items: number): void {
    this.jobMillis = blend(this.jobMillis, Math.max(elapsed, 0.001))
    if (items > 0) this.itemMillis.set(task, blend(this.itemMillis.get(task), Math.max(elapsed / items, 0.0001)))
  }

  /** Most jobs a worker may hold (running + queued ahead). */
  inflightLimit(): number {
    // Nothing measured yet: send nothing ahead, a long task could hold a queued one hostage.
    if (this.jobMillis === undefined) return 1
    return Math.max(1, Math.min(this.limits.prefetch, 1 + Math.floor(AHEAD_MILLIS / this.jobMillis)))
  }

  /** Items for the next chunk of `task`; `remaining` is the number of items left when known. */
  chunkSize(task: TaskRef, remaining: number | undefined, workers: number): number {
    const t = this.tuning
    const perItem = this.itemMillis.get(task)
    const byTime = perItem === undefined ? 1 : Math.floor(t.targetMillis / perItem)
    const atLeast = remaining === undefined ? t.atLeastUnknown : 1
    const largest = Math.min(t.maxItems, this.limits.maxTasksPerWorker)
    let atMost = largest
    if (remaining !== undefined) {
      const floor = perItem === undefined ? 1 : Math.min(largest, Math.floor(t.floorMillis / perItem))
      atMost = Math.min(atMost, Math.max(floor, Math.ceil(remaining / (workers * t.atMostShare))))
    }
    return Math.max(1, Math.min(atMost, Math.max(atLeast, byTime)))
  }
}
