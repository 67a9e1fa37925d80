/**
 * `SharedBarrier`: its operations, served by the parent on every backend.
 *
 * @internal
 */
export const kind = "SharedBarrier"

export type BarrierOps = {
  /** Arrives and waits; returns the arrival index. No timeout: the barrier's own. */
  readonly await: { readonly request: { readonly timeout: number | undefined }; readonly result: number }
  readonly abort: { readonly request: {}; readonly result: void }
  readonly reset: { readonly request: {}; readonly result: void }
  readonly isBroken: { readonly request: {}; readonly result: boolean }
  readonly waiting: { readonly request: {}; readonly result: number }
}
