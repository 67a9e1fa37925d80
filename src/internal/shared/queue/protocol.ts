/**
 * `SharedQueue`: its operations. Items travel encoded with the queue's item schema (the caller encodes and
 * decodes); `run` is the calling worker's task run, so that a joinable queue knows what each running task
 * took (R8).
 *
 * @internal
 */
export const kind = "SharedQueue"

export interface Waiting {
  readonly takers: number
  readonly offerers: number
}

export type QueueOps = {
  readonly offer: { readonly request: { readonly item: unknown; readonly timeout: number | undefined }; readonly result: void }
  readonly offerIfAvailable: { readonly request: { readonly item: unknown }; readonly result: boolean }
  readonly take: { readonly request: { readonly run: number; readonly timeout: number | undefined }; readonly result: unknown }
  /** `[]` when empty, `[item]` otherwise (an item may itself be `undefined`). */
  readonly takeIfAvailable: { readonly request: { readonly run: number }; readonly result: ReadonlyArray<unknown> }
  /** Compensation of a take that completed after its caller gave up: the item goes back to the head. */
  readonly putBack: { readonly request: { readonly run: number; readonly item: unknown }; readonly result: void }
  readonly taskDone: { readonly request: { readonly run: number }; readonly result: void }
  readonly awaitEmpty: { readonly request: {}; readonly result: void }
  readonly end: { readonly request: {}; readonly result: void }
  readonly size: { readonly request: {}; readonly result: number }
  readonly waiting: { readonly request: {}; readonly result: Waiting }
  /** A task run of the calling worker ended normally: what it took stays taken. */
  readonly runEnded: { readonly request: { readonly run: number }; readonly result: void }
}
