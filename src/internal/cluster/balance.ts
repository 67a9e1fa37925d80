/**
 * Which runner the next message goes to (policy, apart from the cluster client's mechanism): a runner with
 * a free worker. Effect Cluster routes a message by its entity id (id → shard → runner) and keeps storage
 * and delivery; the client decides the id, and so the runner.
 *
 * The balancer learns which runner answers for each entity id ("slot") and how many worker threads it has,
 * from the runners' own answers (a readiness ping per slot, and every reply, which names its runner). It
 * counts the messages this client has in flight on each runner and hands out a slot of the runner with the
 * most free room; when every runner is full, callers wait in arrival order until a reply frees a worker.
 * So a runner of 2 workers gets twice the work of a runner of 1, and a slow runner gets less: the next chunk
 * goes where a worker is free, as in R's `sfClusterApplyLB`, instead of where the shard hash sends it.
 * Between runners with as much room, the message goes to the runner used last: calls awaited one after the
 * other stay on one runner, whose process is warm (its code and data in the CPU's caches, its threads
 * awake). Alternating two runners cost 0.07 ms more per volatile round trip than staying on one, on this
 * project's 2-core bench machine (`bench/cluster-trip.ts`); a batch still spreads, by free room.
 *
 * Room per worker: one message while messages carry real work. When a message's cost (its round trip less
 * the time it spent in the runner's pool) is large against the work in it (tiny tasks, where a worker
 * waiting for its next message would idle), a worker may have as many messages in flight as it takes to keep
 * it busy, 1 + cost / work (Little's law), up to {@link MAX_PER_WORKER}. The work is what the worker itself
 * measured, without the time a message waited in the runner's queue, so that queueing does not feed back.
 * Nothing is sent ahead before anything is measured.
 *
 * What it cannot see: other clients' messages (each client balances its own), and a runner that died until
 * its slots answer from another runner. A slot that answers from an unexpected runner tells the client that
 * the assignments moved, and it asks every slot again (`client.ts`).
 *
 * @internal
 */
import { Deque } from "../parent/deque.ts"
import type { RunnerInfo } from "./protocol.ts"

/**
 * Most messages in flight per worker, however tiny the tasks: with persisted delivery, single tiny tasks
 * submitted at once go as fast as Postgres takes messages concurrently (64 halved the throughput of 1,000
 * at once against sending them all).
 */
export const MAX_PER_WORKER = 1024

interface Runner {
  readonly address: string
  workers: number
  /** Messages of this client on this runner, sent and not answered. */
  outstanding: number
  /** The slots this runner answers for, as far as the balancer knows. */
  readonly slots: Array<number>
  /** Round-robin position in `slots`. */
  next: number
  /** When a message last went to it (ties go to the runner used last). */
  picked: number
}

/** A message's place: its slot, and the runner it was counted on (none while no runner is known). */
export interface Lease {
  readonly slot: number
  readonly runner: Runner | undefined
}

interface Waiter {
  readonly resume: (lease: Lease) => void
  active: boolean
}

const ALPHA = 0.3
const blend = (prev: number | undefined, sample: number) => (prev === undefined ? sample : prev + ALPHA * (sample - prev))

export class Balancer {
  private readonly runners = new Map<string, Runner>()
  private readonly owners: Array<Runner | undefined>
  private readonly waiters = new Deque<Waiter>()
  /** Waiters still waiting (a cancelled one stays in the deque until it reaches the head). */
  private waitingNow = 0
  private picks = 0
  /** For messages sent while no runner is known: Effect Cluster routes them as their id says. */
  private fallback: number
  private readonly slots: number

  /** A balancer over `slots` slots (numbered from 0), before any runner answered. */
  constructor(slots: number) {
    this.slots = slots
    this.owners = new Array(slots)
    this.fallback = Math.floor(Math.random() * slots)
  }
  /** EWMAs of a message's cost (round trip less its time in the runner's pool) and of its work, milliseconds. */
  private cost: number | undefined
  private work: number | undefined

  /** Messages a worker may have in flight: 1, more while messages cost more than the work in them. */
  perWorker(): number {
    if (this.cost === undefined || this.work === undefined) return 1
    return Math.max(1, Math.min(MAX_PER_WORKER, 1 + Math.floor(this.cost / Math.max(this.work, 0.01))))
  }

  /** Worker threads over every known runner (0 while none is known). */
  capacity(): number {
    let n = 0
    for (const r of this.runners.values()) n += r.workers
    return n
  }

  /** The known runners, by address. */
  known(): ReadonlyArray<{ readonly address: string; readonly workers: number; readonly outstanding: number; readonly slots: number }> {
    return [...this.runners.values()].map((r) => ({ address: r.address, workers: r.workers, outstanding: r.outstanding, slots: r.slots.length }))
  }

  /**
   * A slot answered from this runner. Returns whether that moved the slot (the first answer of a slot
   * counts as a move only when another runner had it).
   */
  learn(slot: number, info: RunnerInfo): boolean {
    let runner = this.runners.get(info.address)
    if (runner === undefined) {
      runner = { address: info.address, workers: info.workers, outstanding: 0, slots: [], next: 0, picked: 0 }
      this.runners.set(info.address, runner)
    }
    runner.workers = Math.max(1, info.workers)
    const previous = this.owners[slot]
    if (previous === runner) return false
    if (previous !== undefined) {
      const k = previous.slots.indexOf(slot)
      if (k >= 0) previous.slots.splice(k, 1)
      // a runner that answers for no slot any more is gone (its last messages may still be counted on it)
      if (previous.slots.length === 0) this.runners.delete(previous.address)
    }
    this.owners[slot] = runner
    runner.slots.push(slot)
    this.serve()
    return previous !== undefined
  }

  /** A lease now, or undefined when every known runner is full. */
  tryAcquire(): Lease | undefined {
    if (this.runners.size === 0) return { slot: this.fallback++ % this.slots, runner: undefined }
    const perWorker = this.perWorker()
    let best: Runner | undefined
    let bestFree = 0
    for (const r of this.runners.values()) {
      const free = r.workers * perWorker - r.outstanding
      if (free > bestFree || (free === bestFree && best !== undefined && free > 0 && r.picked > best.picked)) {
        best = r
        bestFree = free
      }
    }
    if (best === undefined) return undefined
    best.outstanding++
    best.picked = ++this.picks
    const slot = best.slots[best.next++ % best.slots.length]!
    return { slot, runner: best }
  }

  /** Calls `resume` with a lease as soon as one is free (at once if one is); returns a canceller. */
  /** Messages waiting for a free worker on some runner. */
  waiting(): number {
    return this.waitingNow
  }

  acquire(resume: (lease: Lease) => void): () => void {
    if (this.waiters.length === 0) {
      const lease = this.tryAcquire()
      if (lease !== undefined) {
        resume(lease)
        return noop
      }
    }
    const waiter: Waiter = { resume, active: true }
    this.waiters.push(waiter)
    this.waitingNow++
    return () => {
      if (!waiter.active) return
      waiter.active = false
      this.waitingNow--
    }
  }

  /**
   * A message came back (or gave up): its runner has room again. A message that was answered says how it
   * went: its round trip, its time in the runner's pool and the work in it (milliseconds).
   */
  release(lease: Lease, sample?: { readonly roundTrip: number; readonly inRunner: number; readonly work: number }): void {
    if (lease.runner !== undefined) lease.runner.outstanding--
    if (sample !== undefined) {
      this.cost = blend(this.cost, Math.max(0, sample.roundTrip - sample.inRunner))
      this.work = blend(this.work, sample.work)
    }
    this.serve()
  }

  /** Hands free leases to the callers waiting, first come first served. */
  private serve(): void {
    while (this.waiters.length > 0) {
      const waiter = this.waiters.peek()!
      if (!waiter.active) {
        this.waiters.shift()
        continue
      }
      const lease = this.tryAcquire()
      if (lease === undefined) return
      this.waiters.shift()
      waiter.active = false
      this.waitingNow--
      waiter.resume(lease)
    }
  }
}

const noop = () => {}
