/**
 * `SharedCondition`: its operations on the waiters' list, which the parent hosts on every backend (the
 * condition's lock is a `SharedLock` or `SharedRLock` of its own, in shared memory on threads).
 *
 * @internal
 */
export const kind = "SharedCondition"

export type ConditionOps = {
  /** Registers the calling fiber as a waiter (before it releases the lock); returns its ticket. */
  readonly register: { readonly request: {}; readonly result: number }
  /** The waiter leaves without waiting (or gave up before its wait reached the parent). */
  readonly unregister: { readonly request: { readonly ticket: number }; readonly result: void }
  /** Waits for a notify (or the timeout). */
  readonly wait: { readonly request: { readonly ticket: number; readonly timeout: number | undefined }; readonly result: void }
  readonly notify: { readonly request: { readonly n: number }; readonly result: void }
  readonly notifyAll: { readonly request: {}; readonly result: void }
  readonly waiting: { readonly request: {}; readonly result: number }
}
