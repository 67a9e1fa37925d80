/**
 * A FIFO with O(1) push, shift and unshift. `Array.prototype.shift` is O(n): with 100,000 queued tasks
 * it turns dispatch quadratic.
 *
 * @internal
 */
export class Deque<A> implements Iterable<A> {
  private items: Array<A | undefined> = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(a: A): void {
    this.items.push(a)
  }

  unshift(a: A): void {
    if (this.head > 0) this.items[--this.head] = a
    else this.items.unshift(a)
  }

  peek(): A | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined
  }

  shift(): A | undefined {
    if (this.head >= this.items.length) return undefined
    const a = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return a
  }

  *[Symbol.iterator](): Iterator<A> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as A
  }
}
