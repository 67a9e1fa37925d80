/**
 * Deep freezing of the values a Manager hands out, so that changing a copy in place throws instead of
 * being silently lost (Python's Manager proxies lose it).
 *
 * Plain objects, arrays and class instances are frozen all the way down. JavaScript cannot freeze the
 * contents of typed arrays (freezing a non-empty one throws), nor the entries of a `Map` or `Set`, nor
 * the time in a `Date`: those stay mutable copies (their elements are still frozen where they can be).
 *
 * @internal
 */

export const deepFreeze = <A>(value: A): A => {
  const seen = new Set<object>()
  const visit = (v: unknown): void => {
    if (typeof v !== "object" || v === null || seen.has(v)) return
    seen.add(v)
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer)) return
    if (v instanceof Map) {
      for (const [k, x] of v) {
        visit(k)
        visit(x)
      }
    } else if (v instanceof Set) {
      for (const x of v) visit(x)
    }
    for (const key of Reflect.ownKeys(v)) {
      const d = Object.getOwnPropertyDescriptor(v, key)
      if (d !== undefined && "value" in d) visit(d.value)
    }
    Object.freeze(v)
  }
  visit(value)
  return value
}
