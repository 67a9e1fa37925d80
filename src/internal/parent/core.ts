/**
 * The pool's engine: workers, the job queue, dispatch, interruption, timeouts, crashes, recycling.
 *
 * Written as plain callbacks rather than fibers, queues and semaphores: it runs for every task on the hot
 * path, and an Effect-level queue plus a fiber per dispatch cost several microseconds per task where this
 * costs a fraction of one. The local executor (`pool.ts`) wraps it: each job is an `Effect.callback` whose
 * canceller calls `interrupt` and waits until the worker has really stopped (R1, R2).
 *
 * Invariants:
 * - A worker runs its jobs one at a time in the order they were sent, so the first unfinished job of a
 *   worker (`inflight[0]`) is the one running. A crash fails only that job; the others had not started
 *   and go back to the front of the queue (R4).
 * - A job counts against its worker until the worker replied for it or exited, never less (R2).
 * - Every job is settled exactly once, or resolved as interrupted when its caller interrupted it; a sent
 *   job ends in one place, `finish`.
 * - A job is never given to a worker whose channel closed or that said it is exiting (`gone`); a job
 *   whose message found the channel closed was never delivered and goes back to the queue.
 *
 * Policy (how many jobs to send ahead, how big a chunk is) is in `policy.ts`; mechanism is here.
 *
 * @internal
 */
import type { WorkerErrorReason } from "../../WorkerError.ts"
import { CodecFailed, InitializerFailed, PoolClosed, SpawnFailed, TaskTimeout, WorkerCrashed } from "../../WorkerError.ts"
import type { Execution, ExecutorStats } from "../executor.ts"
import { type ResolvedOptions, show } from "../options.ts"
import type { FromWorker, WireJob, WireReply } from "../protocol.ts"
import type { TaskRef } from "../service.ts"
import { allocateOwner } from "../shared/registry.ts"
import type { Backend, WorkerExit, WorkerHandle } from "./backend.ts"
import { ChannelClosed } from "./backend.ts"
import { Deque } from "./deque.ts"
import { HostCalls } from "./hostCalls.ts"
import { localChunks, Policy } from "./policy.ts"
import type { Transferable } from "node:worker_threads"

export type JobResult =
  | { readonly _tag: "Reply"; readonly reply: WireReply }
  | {
    readonly _tag: "Error"
    readonly reason: WorkerErrorReason
    /** For a chunk whose worker crashed: the item that was running, when the backend can tell. */
    readonly crashedItem?: number | undefined
  }

export interface Job {
  readonly id: number
  readonly task: TaskRef
  readonly wire: WireJob
  readonly items: number
  readonly transfer: ReadonlyArray<Transferable> | undefined
  readonly timeoutMillis: number | undefined
  state: "new" | "waiting" | "queued" | "sent" | "done"
  slot: Slot | undefined
  /** Callers waiting for the job to stop after they interrupted it. */
  interrupting: Array<() => void> | undefined
  /** Interrupted for the caller, but still queued behind another job in its worker: result is dropped. */
  abandoned: boolean
  timedOut: boolean
  closing: boolean
  timer: ReturnType<typeof setTimeout> | undefined
  graceTimer: ReturnType<typeof setTimeout> | undefined
  onAdmit: (() => void) | undefined
  onResult: ((result: JobResult) => void) | undefined
  onProgress: ((index: number, fraction: number) => void) | undefined
  result: JobResult | undefined
}

interface Slot {
  readonly id: number
  /** Owner token of the worker's shared-object holdings. */
  readonly owner: number
  handle: WorkerHandle | undefined
  state: "starting" | "initializing" | "ready" | "closing"
  readonly inflight: Array<Job>
  /** Items sent to this worker over its life (for maxTasksPerWorker). */
  assigned: number
  /** How many of the pool's seen task modules this worker was told to import (`Warm`). */
  warmed: number
  killed: boolean
  /** What the worker said before it died (processes). */
  fatal: string | undefined
  /** Takes no more jobs: its channel closed, or it said it is exiting; killed after interruptGrace. */
  gone: boolean
  /** The exit code the worker said it is exiting with (processes). */
  exitCode: number | undefined
  /** Killed because it did not finish exiting (or closed its channel and stayed) within interruptGrace. */
  stuck: boolean
  idleTimer: ReturnType<typeof setTimeout> | undefined
  closeTimer: ReturnType<typeof setTimeout> | undefined
}

/**
 * How a sent job ended on its worker's side. `Replied`: the worker replied. `Died`: its worker died while
 * running it (the pool is open). `Lost`: no outcome will come: the reply could not be read, or the pool
 * closed or failed before the worker could reply.
 */
type Ending =
  | { readonly _tag: "Replied"; readonly reply: WireReply }
  | { readonly _tag: "Died"; readonly reason: WorkerCrashed; readonly item: number | undefined }
  | { readonly _tag: "Lost"; readonly reason: WorkerErrorReason }

/** A worker whose running job waits on shared objects (deadlock detection). */
export interface BlockedWorker {
  readonly workerId: number
  readonly taskName: string
  readonly index: number
  /** Ids of the objects waited on. */
  readonly objects: ReadonlyArray<number>
  /** Changes whenever one of the worker's waits starts or ends: equal twice means one wait all along. */
  readonly signature: string
}

/** The pool's workers as deadlock detection sees them (`deadlock.ts` decides; the engine only reports). */
export interface PoolWaits {
  /** Workers that take work or soon will (not leaving). */
  readonly live: number
  readonly blocked: ReadonlyArray<BlockedWorker>
  /**
   * When every live worker is blocked: the first jobs waiting behind them (queued, waiting for room, or sent
   * ahead behind a blocked job); empty otherwise.
   */
  readonly waiting: ReadonlyArray<{ readonly taskName: string; readonly index: number }>
  /** How many tasks (items) wait behind them in all (0 unless every live worker is blocked). */
  readonly waitingCount: number
}

const MAX_START_FAILURES = 3
const BACKOFF_MILLIS = [0, 250, 1000]

export class PoolCore {
  readonly policy: Policy
  private readonly slots: Array<Slot> = []
  private readonly queue = new Deque<Job>()
  private readonly waiting = new Deque<Job>()
  private nextJobId = 1
  private nextWorkerId = 1
  private dispatchScheduled = false
  private startFailures = 0
  private respawnTimer: ReturnType<typeof setTimeout> | undefined
  private respawnAt = 0
  private broken: WorkerErrorReason | undefined
  private closed = false
  private closeWaiters: Array<() => void> = []
  private readyWaiters: Array<() => void> = []
  private readonly hostCalls = new HostCalls()
  /** Every task module a job was submitted for, in order: ready workers import each (`Warm`). */
  private readonly seenModules: Array<string> = []
  private readonly seen = new Set<string>()
  private counters = { crashed: 0, killed: 0, recycled: 0, spawned: 0 }

  readonly backend: Backend
  readonly options: ResolvedOptions
  /** A task every new worker runs before it takes work, its payload already encoded. */
  private readonly initializer: { readonly task: TaskRef; readonly payload: unknown } | undefined
  /**
   * How long a worker asked to close (retired, idle, or closed with the pool while it had no job) may take
   * to exit before it is killed. Never under a second: it has no task to stop, but it may still be loading
   * modules, and a short `interruptGrace` (for tasks) should not kill a worker that is merely slow to exit.
   */
  private readonly retireGraceMillis: number
  /**
   * At close, the grace timers of a worker's jobs kill the worker if its running job does not stop; this
   * backstop, just after them, kills it if it is still there (a job queued behind it, a reply lost).
   */
  private readonly closeBackstopMillis: number

  constructor(
    backend: Backend,
    options: ResolvedOptions,
    initializer?: { readonly task: TaskRef; readonly payload: unknown } | undefined
  ) {
    this.backend = backend
    this.options = options
    this.initializer = initializer
    this.policy = new Policy(localChunks, options)
    this.retireGraceMillis = Math.max(options.interruptGraceMillis, 1000)
    this.closeBackstopMillis = options.interruptGraceMillis + 50
  }

  // ---------------------------------------------------------------------------------------------------------
  // jobs

  /** A job for an execution (its payloads already encoded). */
  makeJob(execution: Omit<Execution, "onProgress"> & Partial<Pick<Execution, "onProgress">>): Job {
    const id = this.nextJobId++
    const task = execution.task
    return {
      id,
      task,
      wire: {
        id,
        module: task.module,
        name: task.name,
        payloads: execution.items,
        index: execution.index,
        attempt: execution.attempt,
        seed: execution.seed,
        chunk: execution.mode !== "single",
        notifyStart: execution.timeoutMillis !== undefined,
        collect: execution.mode === "exits",
        trace: execution.trace
      },
      items: execution.items.length,
      transfer: execution.transfer,
      timeoutMillis: execution.timeoutMillis,
      state: "new",
      slot: undefined,
      interrupting: undefined,
      abandoned: false,
      timedOut: false,
      closing: false,
      timer: undefined,
      graceTimer: undefined,
      onAdmit: undefined,
      onResult: undefined,
      onProgress: execution.onProgress,
      result: undefined
    }
  }

  /** Admits a job to the queue, or makes it wait for room when `maxQueued` is reached (backpressure). */
  submit(job: Job): void {
    if (this.closed) return this.settle(job, { _tag: "Error", reason: new PoolClosed({ taskName: job.task.name }) })
    if (this.broken !== undefined) return this.settle(job, { _tag: "Error", reason: this.broken })
    if (!this.seen.has(job.task.module)) this.see(job.task.module)
    if (this.queue.length >= this.options.maxQueued) {
      job.state = "waiting"
      this.waiting.push(job)
      return
    }
    this.admit(job)
  }

  private admit(job: Job): void {
    job.state = "queued"
    const onAdmit = job.onAdmit
    job.onAdmit = undefined
    onAdmit?.()
    // A job that finds nothing queued and a worker idle goes to it now: a single task's message leaves
    // while its caller's fiber is still suspending, instead of after a microtask and a dispatch round
    // (the worker starts on it in parallel). Jobs that find every worker busy wait for the next dispatch,
    // which sends each worker its share in one message.
    if (this.queue.length === 0 && this.sendToIdle(job)) return
    this.queue.push(job)
    this.scheduleDispatch()
  }

  /** Sends a job to the first ready worker with nothing in flight, if there is one. */
  private sendToIdle(job: Job): boolean {
    for (const slot of this.slots) {
      if (slot.state !== "ready" || slot.gone || slot.inflight.length > 0 || !this.fits(slot, job)) continue
      this.assign(slot, job)
      this.send(slot, [job])
      // what else a dispatch does (a replacement for a worker that can take no more, submitters waiting
      // for room) runs after the message has left
      this.scheduleDispatch()
      return true
    }
    return false
  }

  /** Whether a worker may take a job under `maxTasksPerWorker` (a fresh worker takes any job, however large). */
  private fits(slot: Slot, job: Job): boolean {
    return slot.assigned === 0 || slot.assigned + job.items <= this.options.maxTasksPerWorker
  }

  /** A job goes to a worker: it counts as in flight there from now on. */
  private assign(slot: Slot, job: Job): void {
    job.state = "sent"
    job.slot = slot
    slot.inflight.push(job)
    slot.assigned += job.items
    if (slot.idleTimer !== undefined) {
      clearTimeout(slot.idleTimer)
      slot.idleTimer = undefined
    }
  }

  private settle(job: Job, result: JobResult): void {
    if (job.state === "done" && job.result !== undefined) return
    job.state = "done"
    job.result = result
    this.clearTimers(job)
    const onAdmit = job.onAdmit
    job.onAdmit = undefined
    onAdmit?.()
    const onResult = job.onResult
    job.onResult = undefined
    onResult?.(result)
  }

  private clearTimers(job: Job): void {
    if (job.timer !== undefined) clearTimeout(job.timer)
    if (job.graceTimer !== undefined) clearTimeout(job.graceTimer)
    job.timer = undefined
    job.graceTimer = undefined
  }

  /**
   * Interrupts a job on behalf of its caller; `done` runs once the job has really stopped: it was still
   * queued, its worker confirmed, or its worker was killed after `interruptGrace` (R2).
   */
  interrupt(job: Job, done: () => void): void {
    switch (job.state) {
      case "new":
      case "waiting":
      case "queued": {
        // dropped lazily by dispatch / promote: O(1) even when a storm interrupts a huge queue
        job.state = "done"
        job.onResult = undefined
        job.onAdmit = undefined
        return done()
      }
      case "done":
        return done()
      case "sent": {
        if (job.interrupting !== undefined) {
          job.interrupting.push(done)
          return
        }
        job.interrupting = [done]
        job.onResult = undefined
        this.stop(job)
        return
      }
    }
  }

  /** Asks the worker to stop a sent job; kills the worker if the job is running and does not stop in time. */
  private stop(job: Job): void {
    const slot = job.slot!
    try {
      slot.handle?.send({ _tag: "Interrupt", id: job.id })
    } catch {
      // the worker is going away: its exit settles the job
    }
    if (job.graceTimer !== undefined) return
    job.graceTimer = setTimeout(() => {
      job.graceTimer = undefined
      if (job.state !== "sent") return
      if (slot.inflight[0] === job) {
        // running and not stopping: a synchronous loop. Kill the worker; its exit resolves the job.
        this.kill(slot)
      } else if (job.interrupting !== undefined) {
        // still waiting behind another job in that worker: do not hold the caller hostage to it. The worker
        // drops the job when it reads the Interrupt; its late reply is ignored.
        job.abandoned = true
        this.resolveInterrupting(job)
      }
    }, this.options.interruptGraceMillis)
  }

  private resolveInterrupting(job: Job): void {
    const callbacks = job.interrupting
    job.interrupting = undefined
    if (callbacks !== undefined) for (const cb of callbacks) cb()
  }

  /**
   * Whether nobody waits for the job's result any more, and if so ends it: an abandoned job (its caller
   * gave up while it was queued behind another in its worker) is dropped; a job its caller interrupted
   * resolves the caller's wait, now that it has stopped.
   */
  private unwanted(job: Job): boolean {
    if (job.abandoned) {
      job.state = "done"
      return true
    }
    if (job.interrupting !== undefined) {
      job.state = "done"
      this.resolveInterrupting(job)
      return true
    }
    return false
  }

  /**
   * Ends a sent job, the one place where one ends: dropped or resolved if nobody waits for it; when it
   * stopped because the parent stopped it (an `Interrupted` reply, or a worker that died), a timeout it
   * passed fails it with `TaskTimeout`, a close with `PoolClosed`; otherwise it is settled with what came.
   */
  private finish(job: Job, ending: Ending): void {
    this.clearTimers(job)
    if (this.unwanted(job)) return
    const stopped = ending._tag === "Died" || (ending._tag === "Replied" && ending.reply.outcome?._tag === "Interrupted")
    if (stopped && job.timedOut) {
      return this.settle(job, { _tag: "Error", reason: new TaskTimeout({ taskName: job.task.name, timeoutMillis: job.timeoutMillis! }) })
    }
    if (stopped && job.closing) return this.settle(job, { _tag: "Error", reason: new PoolClosed({ taskName: job.task.name }) })
    switch (ending._tag) {
      case "Replied":
        return this.settle(job, { _tag: "Reply", reply: ending.reply })
      case "Died":
        return this.settle(job, { _tag: "Error", reason: ending.reason, crashedItem: ending.item })
      case "Lost":
        return this.settle(job, { _tag: "Error", reason: ending.reason })
    }
  }

  private kill(slot: Slot): void {
    if (slot.killed) return
    slot.killed = true
    this.counters.killed++
    slot.handle?.kill()
  }

  /**
   * A task module used for the first time: every ready worker imports it in the background (a busy one once
   * its running task has ended: `warmWhenIdle` in the worker runtime), so that
   * the first batch of its tasks finds it loaded everywhere (one worker importing it while another runs
   * the whole batch is what made a first batch slower than the next ones). Workers that become ready
   * later are told in `markReady`.
   */
  private see(module: string): void {
    this.seen.add(module)
    this.seenModules.push(module)
    for (const slot of this.slots) if (slot.state === "ready" || slot.state === "initializing") this.warm(slot)
  }

  /** Tells a worker the seen modules it does not know yet. */
  private warm(slot: Slot): void {
    if (slot.gone || slot.warmed >= this.seenModules.length) return
    const modules = this.seenModules.slice(slot.warmed)
    slot.warmed = this.seenModules.length
    try {
      slot.handle?.send({ _tag: "Warm", modules })
    } catch {
      // the worker is going away; its exit is handled elsewhere
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // dispatch

  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return
    this.dispatchScheduled = true
    queueMicrotask(() => this.dispatch())
  }

  private promoteWaiting(): void {
    while (this.waiting.length > 0 && this.queue.length < this.options.maxQueued) {
      const job = this.waiting.shift()!
      if (job.state === "waiting") this.admit(job)
    }
  }

  private dispatch(): void {
    this.dispatchScheduled = false
    if (this.closed || this.broken !== undefined) return
    this.promoteWaiting()
    this.ensureWorkers()
    const limit = this.policy.inflightLimit()
    // Refill a worker only once it has drained to half its limit: one message then carries many jobs
    // instead of one message per finished job (hysteresis; measured: 3x fewer postMessage calls on 100k
    // tiny tasks).
    const refillAt = limit > 2 ? limit >> 1 : limit - 1
    const ready: Array<Slot> = []
    for (const s of this.slots) if (s.state === "ready" && !s.gone && s.inflight.length <= refillAt) ready.push(s)
    if (ready.length === 0 || this.queue.length === 0) return
    const batches = new Map<Slot, Array<Job>>()
    while (this.queue.length > 0) {
      const job = this.queue.peek()!
      if (job.state !== "queued") {
        this.queue.shift()
        continue
      }
      // the least loaded worker that can take the job: spreads work before sending ahead (balancing)
      let best: Slot | undefined
      let bestLoad = Infinity
      for (const s of ready) {
        const load = s.inflight.length
        if (load >= limit || load >= bestLoad || !this.fits(s, job)) continue
        best = s
        bestLoad = load
      }
      if (best === undefined) break
      this.queue.shift()
      this.assign(best, job)
      let batch = batches.get(best)
      if (batch === undefined) batches.set(best, batch = [])
      batch.push(job)
    }
    for (const [slot, jobs] of batches) this.send(slot, jobs)
    this.promoteWaiting()
    // a worker that can take no more (maxTasksPerWorker) is replaced ahead of its retirement
    this.ensureWorkers()
  }

  /**
   * Sends jobs to a worker in one message; on a clone failure, finds and fails exactly the bad jobs. A
   * closed channel is no clone failure: those jobs were never delivered and go back to the queue.
   */
  private send(slot: Slot, jobs: Array<Job>): void {
    const transfer = jobs.some((j) => j.transfer !== undefined) ? jobs.flatMap((j) => j.transfer ?? []) : undefined
    try {
      slot.handle!.send({ _tag: "Run", jobs: jobs.map((j) => j.wire) }, transfer)
      return
    } catch (e) {
      if (e instanceof ChannelClosed) return this.undelivered(slot, jobs)
      // fall through: one at a time
    }
    for (let k = 0; k < jobs.length; k++) {
      const job = jobs[k]!
      try {
        slot.handle!.send({ _tag: "Run", jobs: [job.wire] }, job.transfer)
      } catch (e) {
        if (e instanceof ChannelClosed) return this.undelivered(slot, jobs.slice(k))
        const i = slot.inflight.indexOf(job)
        if (i >= 0) slot.inflight.splice(i, 1)
        slot.assigned -= job.items
        this.settle(job, {
          _tag: "Error",
          reason: this.codecReason(job, `the payload cannot be cloned to a worker: ${e instanceof Error ? e.message : String(e)}`)
        })
        // the worker has room again for what waits behind the failed job
        this.scheduleDispatch()
      }
    }
  }

  /** Jobs whose message found the worker's channel closed: back to the front of the queue, in order. */
  private undelivered(slot: Slot, jobs: ReadonlyArray<Job>): void {
    this.channelGone(slot)
    // an initializer's job stays: the worker's exit decides what its initialization came to
    if (slot.state === "initializing") return
    for (const job of jobs) {
      const i = slot.inflight.indexOf(job)
      if (i >= 0) slot.inflight.splice(i, 1)
      slot.assigned -= job.items
    }
    this.requeueFront(jobs)
    this.scheduleDispatch()
  }

  /**
   * The worker can no longer take jobs: its channel closed, or it said it is exiting. What it runs is
   * settled by its exit; if that does not come within interruptGrace (a process that hangs in
   * `process.exit`, or stays alive after closing its channel), the worker is killed. A replacement starts
   * meanwhile (it no longer counts as live).
   */
  private channelGone(slot: Slot): void {
    if (slot.gone) return
    slot.gone = true
    if (slot.state !== "closing" && slot.closeTimer === undefined) {
      slot.closeTimer = setTimeout(() => {
        slot.closeTimer = undefined
        slot.stuck = true
        slot.handle?.kill()
      }, this.options.interruptGraceMillis)
    }
    this.scheduleDispatch()
  }

  /** A message from the worker could not be read: it was the reply of its running job, which fails. */
  private onUnreadable(slot: Slot, message: string): void {
    const job = slot.inflight.shift()
    if (job === undefined) return
    this.finish(job, {
      _tag: "Lost",
      reason: new CodecFailed({ taskName: job.task.name, side: "parent", direction: "success", path: "", message })
    })
    this.afterProgress(slot)
  }

  private codecReason(job: Job, message: string): WorkerErrorReason {
    return new CodecFailed({ taskName: job.task.name, side: "parent", direction: "payload", path: "", message })
  }

  // ---------------------------------------------------------------------------------------------------------
  // workers

  private liveCount(): number {
    let n = 0
    for (const s of this.slots) {
      if (s.state === "closing" || s.killed || s.gone) continue
      if (this.exhausted(s)) continue
      n++
    }
    return n
  }

  /**
   * A worker that cannot take the next job without passing maxTasksPerWorker: it finishes what it has and
   * retires, and a replacement starts meanwhile (a chunk never waits for a worker that will not take it).
   */
  private exhausted(slot: Slot): boolean {
    if (slot.assigned === 0) return false
    const next = this.queue.peek()?.items ?? 1
    return slot.assigned + next > this.options.maxTasksPerWorker
  }

  private ensureWorkers(): void {
    if (this.closed || this.broken !== undefined) return
    const wanted = this.options.idleTimeoutMillis === Infinity || this.queue.length > 0 ? this.options.size : 0
    const missing = wanted - this.liveCount()
    if (missing <= 0) return
    const now = Date.now()
    if (now < this.respawnAt) {
      if (this.respawnTimer === undefined) {
        this.respawnTimer = setTimeout(() => {
          this.respawnTimer = undefined
          this.scheduleDispatch()
        }, this.respawnAt - now)
      }
      return
    }
    for (let i = 0; i < missing; i++) this.spawn()
  }

  private spawn(): void {
    const slot: Slot = {
      id: this.nextWorkerId++,
      owner: allocateOwner(),
      handle: undefined,
      state: "starting",
      inflight: [],
      assigned: 0,
      warmed: 0,
      killed: false,
      fatal: undefined,
      gone: false,
      exitCode: undefined,
      stuck: false,
      idleTimer: undefined,
      closeTimer: undefined
    }
    this.slots.push(slot)
    this.counters.spawned++
    try {
      slot.handle = this.backend.spawn(
        { workerId: slot.id, owner: slot.owner, preload: this.options.preload },
        this.options,
        {
          onMessage: (message) => this.onMessage(slot, message),
          onExit: (exit) => this.onExit(slot, exit),
          onDisconnect: () => this.channelGone(slot),
          onUnreadable: (message) => this.onUnreadable(slot, message)
        }
      )
    } catch (e) {
      // a worker that cannot even be created (bad execArgv, missing entry) will not do better next time
      this.removeSlot(slot)
      this.hostCalls.workerGone(slot.id, slot.owner, false)
      this.fail(new SpawnFailed({ message: `${e instanceof Error ? e.message : String(e)}` }))
    }
  }

  private startFailed(message: string): void {
    this.startFailures++
    if (this.startFailures >= MAX_START_FAILURES) {
      return this.fail(new SpawnFailed({ message: `workers failed ${this.startFailures} times in a row before they were ready; last: ${message}` }))
    }
    this.respawnAt = Date.now() + (BACKOFF_MILLIS[this.startFailures] ?? 1000)
    this.scheduleDispatch()
  }

  private removeSlot(slot: Slot): void {
    const i = this.slots.indexOf(slot)
    if (i >= 0) this.slots.splice(i, 1)
    if (slot.idleTimer !== undefined) clearTimeout(slot.idleTimer)
    if (slot.closeTimer !== undefined) clearTimeout(slot.closeTimer)
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    switch (message._tag) {
      case "Ready":
        return this.onReady(slot)
      case "Fatal":
        slot.fatal = message.message
        return
      case "Exiting":
        slot.exitCode = message.code
        return this.channelGone(slot)
      case "Call":
        return this.hostCalls.onCall(slot.id, slot.owner, message, (reply) => {
          try {
            slot.handle?.send(reply)
          } catch {
            // the worker is gone; its exit cleans up
          }
        })
      case "CallCancel":
        return this.hostCalls.onCancel(slot.id, message.id)
      case "Progress": {
        const job = slot.inflight.find((j) => j.id === message.id)
        job?.onProgress?.(message.index, message.fraction)
        return
      }
      case "Started": {
        const job = slot.inflight.find((j) => j.id === message.id)
        if (job !== undefined && job.timeoutMillis !== undefined && job.timer === undefined) {
          job.timer = setTimeout(() => this.onTimeout(job), job.timeoutMillis)
        }
        return
      }
      case "Done": {
        for (const reply of message.replies) {
          // replies come in the order jobs were sent: the head, almost always
          const head = slot.inflight[0]
          let job: Job | undefined
          if (head !== undefined && head.id === reply.id) {
            job = slot.inflight.shift()
          } else {
            const i = slot.inflight.findIndex((j) => j.id === reply.id)
            if (i < 0) continue
            job = slot.inflight.splice(i, 1)[0]
          }
          this.policy.observe(job!.task, reply.elapsed, job!.items)
          this.finish(job!, { _tag: "Replied", reply })
        }
        // the new head may be a job someone is waiting to stop: its grace clock applies from now on
        const head = slot.inflight[0]
        if (head !== undefined && head.interrupting !== undefined && head.graceTimer === undefined && !head.abandoned) {
          this.stop(head)
        }
        this.afterProgress(slot)
        return
      }
    }
  }

  private onReady(slot: Slot): void {
    if (slot.state !== "starting") return
    if (this.closed) return this.retire(slot)
    const init = this.initializer
    if (init !== undefined) {
      slot.state = "initializing"
      const job = this.makeJob({
        task: init.task,
        items: [init.payload],
        index: 0,
        attempt: 1,
        seed: 0,
        mode: "single",
        timeoutMillis: undefined,
        trace: undefined,
        transfer: undefined
      })
      job.state = "sent"
      job.slot = slot
      job.onResult = (result) => this.onInitialized(slot, job, result)
      slot.inflight.push(job)
      this.send(slot, [job])
      return
    }
    this.markReady(slot)
  }

  private onInitialized(slot: Slot, job: Job, result: JobResult): void {
    if (result._tag === "Reply" && result.reply.outcome?._tag === "Success") return this.markReady(slot)
    const message = result._tag === "Error"
      ? result.reason.message
      : describeOutcome(result.reply)
    this.fail(new InitializerFailed({ taskName: job.task.name, message }))
  }

  private markReady(slot: Slot): void {
    slot.state = "ready"
    this.startFailures = 0
    this.warm(slot)
    this.notifyReady()
    this.afterProgress(slot)
  }

  private readyCount(): number {
    let n = 0
    for (const s of this.slots) if (s.state === "ready") n++
    return n
  }

  private notifyReady(): void {
    if (this.readyWaiters.length === 0) return
    if (this.readyCount() < this.options.size && !this.closed && this.broken === undefined) return
    const waiters = this.readyWaiters
    this.readyWaiters = []
    for (const w of waiters) w()
  }

  /** Calls `done` once `size` workers are ready (or the pool is closed or failed). */
  awaitReady(done: () => void): () => void {
    this.readyWaiters.push(done)
    this.notifyReady()
    return () => {
      const i = this.readyWaiters.indexOf(done)
      if (i >= 0) this.readyWaiters.splice(i, 1)
    }
  }

  /** Why the pool cannot run tasks, if it cannot. */
  failure(): WorkerErrorReason | undefined {
    return this.broken
  }


  private onTimeout(job: Job): void {
    job.timer = undefined
    if (job.state !== "sent") return
    job.timedOut = true
    this.stop(job)
  }

  /** After a worker finished something: recycle it, let it idle, or give it more work. */
  private afterProgress(slot: Slot): void {
    if (slot.state === "ready" && slot.inflight.length === 0) {
      if (this.closed) return this.retire(slot)
      if (this.exhausted(slot)) {
        this.counters.recycled++
        return this.retire(slot)
      }
      if (this.options.idleTimeoutMillis !== Infinity && slot.idleTimer === undefined && this.queue.length === 0) {
        slot.idleTimer = setTimeout(() => {
          slot.idleTimer = undefined
          if (slot.state === "ready" && slot.inflight.length === 0) this.retire(slot)
        }, this.options.idleTimeoutMillis)
      }
    }
    this.scheduleDispatch()
  }

  /** Stops a worker that has no job: asks it to close, kills it if it does not go. */
  private retire(slot: Slot): void {
    if (slot.state === "closing") return
    slot.state = "closing"
    try {
      slot.handle?.send({ _tag: "Close" })
    } catch {
      // already gone
    }
    if (slot.closeTimer !== undefined) clearTimeout(slot.closeTimer)
    slot.closeTimer = setTimeout(() => slot.handle?.kill(), this.retireGraceMillis)
  }

  private onExit(slot: Slot, reported: WorkerExit): void {
    const wasState = slot.state
    this.removeSlot(slot)
    const jobs = slot.inflight.splice(0)
    // before anything else: what a crashed worker's running task held is free again, barriers it was in
    // break (R8); a worker that retired (closing, nothing in flight) gives nothing back
    this.hostCalls.workerGone(slot.id, slot.owner, slot.killed || jobs.length > 0 || wasState !== "closing")
    // a worker killed because it hung in process.exit is reported with the code it was exiting with
    const hungInExit = slot.stuck && !slot.killed && slot.exitCode !== undefined
    const exit: WorkerExit = hungInExit ? { ...reported, code: slot.exitCode!, signal: null } : reported
    const reason = slot.killed
      ? `killed after not stopping within interruptGrace (${this.options.interruptGraceMillis} ms)`
      : exit.error ?? slot.fatal ?? (
        slot.stuck && !hungInExit
          ? `closed its channel and did not exit within interruptGrace (${this.options.interruptGraceMillis} ms): killed`
          : describeExit(exit) + (hungInExit ? ` (it hung while exiting and was killed after interruptGrace, ${this.options.interruptGraceMillis} ms)` : "")
      )
    if (!this.closed && this.broken === undefined) {
      if (wasState === "initializing" && !slot.killed) {
        // the initializer itself took the worker down: a broken initializer fails the pool, no respawn loop
        const init = jobs.shift()
        this.requeueFront(jobs)
        this.fail(new InitializerFailed({ taskName: init?.task.name ?? "initializer", message: `the worker ${reason}` }))
      } else if (wasState === "starting" && !slot.killed) {
        // never became ready: nothing ran; put its jobs back and count a start failure
        this.requeueFront(jobs)
        this.startFailed(`worker ${slot.id} ${reason}`)
      } else if (wasState !== "closing" || jobs.length > 0) {
        if (!slot.killed && wasState !== "closing") this.counters.crashed++
        const [head, ...rest] = jobs
        if (head !== undefined) this.failHead(slot, head, exit, reason)
        this.requeueFront(rest)
      }
      this.scheduleDispatch()
    } else {
      const broken = this.broken
      for (const job of jobs) {
        this.finish(job, { _tag: "Lost", reason: broken ?? new PoolClosed({ taskName: job.task.name }) })
      }
    }
    if (this.slots.length === 0 && this.closeWaiters.length > 0) {
      const waiters = this.closeWaiters
      this.closeWaiters = []
      for (const w of waiters) w()
    }
  }

  /** The job its worker was running when it died: the one a crash fails (R4). */
  private failHead(slot: Slot, job: Job, exit: WorkerExit, reason: string): void {
    this.finish(job, {
      _tag: "Died",
      item: exit.cursor !== undefined && exit.cursor.job === job.id ? exit.cursor.item : undefined,
      reason: new WorkerCrashed({
        taskName: job.task.name,
        workerId: slot.id,
        exitCode: exit.code,
        signal: exit.signal,
        message: reason
      })
    })
  }

  /** Jobs that had not started: back to the front of the queue, in order, unless nobody waits for them. */
  private requeueFront(jobs: ReadonlyArray<Job>): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i]!
      job.slot = undefined
      this.clearTimers(job)
      if (this.unwanted(job) || job.state === "done") continue
      job.state = "queued"
      this.queue.unshift(job)
    }
  }

  /** Fails the pool: every waiting, queued and running job gets `reason`, and so does every later submit. */
  private fail(reason: WorkerErrorReason): void {
    if (this.broken !== undefined) return
    this.broken = reason
    this.notifyReady()
    this.failQueued(reason)
    for (const slot of [...this.slots]) {
      for (const job of slot.inflight) {
        if (job.onResult !== undefined) this.settle(job, { _tag: "Error", reason })
      }
      slot.handle?.kill()
    }
  }

  private failQueued(reason: WorkerErrorReason | ((job: Job) => WorkerErrorReason)): void {
    for (const dq of [this.waiting, this.queue]) {
      while (dq.length > 0) {
        const job = dq.shift()!
        if (job.state === "waiting" || job.state === "queued") {
          this.settle(job, { _tag: "Error", reason: typeof reason === "function" ? reason(job) : reason })
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // waits on shared objects (deadlock detection: `deadlock.ts` decides when; the engine reports and acts)

  /**
   * The objects a worker's running job waits on, if any: its calls pending in the parent (every wait of a
   * process worker; a thread's waits on parent-hosted objects) and what a thread publishes of its waits on
   * shared memory. Read without any message to the worker.
   */
  private blockedOn(slot: Slot): BlockedWorker | undefined {
    const head = slot.inflight[0]
    if (slot.state !== "ready" || head === undefined) return undefined
    const calls = this.hostCalls.pendingOf(slot.id)
    const probe = slot.handle?.probe?.()
    const onMemory = probe !== undefined && probe.waiting > 0
    if (calls.length === 0 && !onMemory) return undefined
    const objects = calls.map((c) => c.object)
    if (onMemory && !objects.includes(probe.object)) objects.push(probe.object)
    return {
      workerId: slot.id,
      taskName: head.task.name,
      index: head.wire.index + (probe !== undefined && probe.job === head.id ? probe.item : 0),
      objects,
      signature: `${probe?.seq ?? 0}/${calls.map((c) => c.id).join(",")}`
    }
  }

  /**
   * The workers blocked in shared-object waits, and, when every live worker is (only then can it be a
   * deadlock), the jobs waiting behind them: the queue is walked only then, not on every sample.
   */
  waits(): PoolWaits {
    let live = 0
    const blocked: Array<BlockedWorker> = []
    const waiting: Array<{ readonly taskName: string; readonly index: number }> = []
    let waitingCount = 0
    const behind = (job: Job): void => {
      waitingCount += job.items
      if (waiting.length < 10) waiting.push({ taskName: job.task.name, index: job.wire.index })
    }
    for (const slot of this.slots) {
      if (slot.state === "closing" || slot.gone || slot.killed) continue
      live++
      const b = this.blockedOn(slot)
      if (b === undefined) continue
      blocked.push(b)
    }
    if (blocked.length === 0 || blocked.length < live) return { live, blocked, waiting, waitingCount }
    for (const slot of this.slots) {
      if (slot.state === "closing" || slot.gone || slot.killed) continue
      for (let i = 1; i < slot.inflight.length; i++) {
        const job = slot.inflight[i]!
        if (job.state === "sent" && job.onResult !== undefined) behind(job)
      }
    }
    for (const job of this.queue) if (job.state === "queued") behind(job)
    for (const job of this.waiting) if (job.state === "waiting") behind(job)
    return { live, blocked, waiting, waitingCount }
  }

  /**
   * Fails every job waiting behind a blocked worker (`onDeadlock: "fail"`): queued, waiting for room, or
   * sent ahead to a blocked worker (which is asked to drop it; it counts as busy until it has).
   */
  failWaiting(reason: (job: Job) => WorkerErrorReason): void {
    for (const slot of this.slots) {
      if (this.blockedOn(slot) === undefined) continue
      for (const job of slot.inflight.slice(1)) {
        if (job.state !== "sent" || job.onResult === undefined) continue
        this.settle(job, { _tag: "Error", reason: reason(job) })
        try {
          slot.handle?.send({ _tag: "Interrupt", id: job.id })
        } catch {
          // the worker is going away: its exit ends the job, already settled
        }
      }
    }
    this.failQueued(reason)
  }

  // ---------------------------------------------------------------------------------------------------------
  // lifecycle

  start(): void {
    this.ensureWorkers()
  }

  /**
   * Closes the pool (R3): queued jobs fail with PoolClosed, running jobs are interrupted (workers that do
   * not stop within interruptGrace are killed), every worker is ended; `done` runs when all have exited.
   */
  close(done: () => void): void {
    if (this.respawnTimer !== undefined) clearTimeout(this.respawnTimer)
    if (!this.closed) {
      this.closed = true
      this.notifyReady()
      this.failQueued((job) => new PoolClosed({ taskName: job.task.name }))
      for (const slot of this.slots) {
        if (slot.state === "starting") {
          // still loading its modules, never ran a task: nothing to wind down, so do not wait for it
          slot.state = "closing"
          slot.handle?.kill()
          continue
        }
        if (slot.inflight.length === 0) {
          this.retire(slot)
          continue
        }
        for (const job of slot.inflight) {
          job.closing = true
          this.stop(job)
        }
        // whatever still runs after the grace period is killed
        if (slot.closeTimer !== undefined) clearTimeout(slot.closeTimer)
        slot.closeTimer = setTimeout(() => slot.handle?.kill(), this.closeBackstopMillis)
      }
    }
    if (this.slots.length === 0) return done()
    this.closeWaiters.push(done)
  }

  stats(): ExecutorStats {
    let busy = 0
    let running = 0
    let queued = 0
    let waiting = 0
    let blocked = 0
    for (const s of this.slots) {
      if (s.inflight.length > 0) busy++
      running += s.inflight.length
      if (this.blockedOn(s) !== undefined) blocked++
    }
    for (const j of this.queue) if (j.state === "queued") queued++
    for (const j of this.waiting) if (j.state === "waiting") waiting++
    return {
      size: this.options.size,
      workers: this.slots.length,
      ready: this.readyCount(),
      busy,
      queued,
      waiting,
      running,
      backend: this.backend.name,
      blocked,
      ...this.counters
    }
  }
}

const describeExit = (exit: WorkerExit): string => {
  if (exit.signal === "SIGABRT" || exit.code === 134) {
    return `aborted (${exit.signal ?? `code ${exit.code}`}): out of memory, or a native abort`
  }
  return exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.code}`
}

const describeOutcome = (reply: WireReply): string => {
  const o = reply.outcome
  if (o === undefined) return "no outcome"
  switch (o._tag) {
    case "Success":
      return "succeeded"
    case "Failure":
      return `failed with ${show(o.error)}`
    case "Defect":
      return `died: ${o.defect.name}: ${o.defect.message}`
    case "Interrupted":
      return "was interrupted"
    case "Problem":
      return o.problem.message
  }
}
