/**
 * Follow-up events waiting for their time (reversals seconds later, settlements hours later),
 * as struct-of-arrays records instead of objects: a 24 h default run holds ~200 k of them at the
 * evening peak, and 200 k live objects cost ~80 MB and most of the GC time; these cost ~7 MB.
 * The event object is built when the record's time comes.
 */
export const REC_SETTLEMENT = 1;
export const REC_REVERSAL = 2;

export class RecordStore {
  kind = new Uint8Array(0);
  terminal = new Int32Array(0);
  txn = new Float64Array(0);
  /** settlement: amount; reversal: unused */
  amount = new Float64Array(0);
  /** settlement: 1 settled / 2 rejected; reversal: reason index * 2 + (failed ? 1 : 0) */
  aux = new Uint8Array(0);
  /** settlement: batch cut time */
  cut = new Float64Array(0);
  private free = new Int32Array(0);
  private nFree = 0;
  private used = 0;

  constructor(capacity = 4096) {
    this.resize(capacity);
  }

  alloc(): number {
    if (this.nFree > 0) return this.free[--this.nFree]!;
    if (this.used === this.kind.length) this.resize(this.kind.length * 2);
    return this.used++;
  }

  release(i: number): void {
    this.free[this.nFree++] = i;
  }

  private resize(cap: number): void {
    const grow = <T extends Uint8Array | Int32Array | Float64Array>(
      a: T,
      C: new (n: number) => T,
    ): T => {
      const b = new C(cap);
      b.set(a);
      return b;
    };
    this.kind = grow(this.kind, Uint8Array);
    this.terminal = grow(this.terminal, Int32Array);
    this.txn = grow(this.txn, Float64Array);
    this.amount = grow(this.amount, Float64Array);
    this.aux = grow(this.aux, Uint8Array);
    this.cut = grow(this.cut, Float64Array);
    this.free = grow(this.free, Int32Array);
  }
}
