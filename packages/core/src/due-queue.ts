/**
 * Pending timers in due order, without sorting them all.
 *
 * Each timer kind has one fixed delay (settlement deadline, reversal grace), so in arrival
 * order its dues are sorted except for event-time disorder, which the watermark bounds:
 * an accepted event has ts >= watermark >= newest ts - allowedLateness, so a timer's due is at
 * most `lateness` below any earlier timer's. Timers therefore wait in a FIFO per kind (8 B
 * each: index and generation) and move into a small min-heap once their due is within
 * `lateness` of the watermark. When the FIFO head is due at or after watermark + lateness,
 * every timer behind it is due at or after the watermark, so the heap holds every timer that
 * must fire, and pops them in due order. The heap only ever holds ~lateness worth of timers
 * (e.g. 10 s x 2k timers/s = 20k entries, 320 KB: cache-warm), unlike one heap of 24 h of
 * settlements whose sift would walk 20 cache-cold levels per fire.
 *
 * A timer that is replaced or cancelled bumps its generation; its stale entries are skipped.
 */
export class TimerFifo {
  idx: Int32Array;
  gen: Int32Array;
  head = 0;
  len = 0;

  constructor(capacity = 1024) {
    this.idx = new Int32Array(capacity);
    this.gen = new Int32Array(capacity);
  }

  push(idx: number, gen: number): void {
    if (this.len === this.idx.length) this.grow();
    let p = this.head + this.len;
    if (p >= this.idx.length) p -= this.idx.length;
    this.idx[p] = idx;
    this.gen[p] = gen;
    this.len++;
  }

  shift(): void {
    this.len--;
    this.head++;
    if (this.head === this.idx.length) this.head = 0;
  }

  private grow(): void {
    const cap = this.idx.length;
    const idx = new Int32Array(cap * 2);
    const gen = new Int32Array(cap * 2);
    for (let k = 0, p = this.head; k < this.len; k++) {
      idx[k] = this.idx[p]!;
      gen[k] = this.gen[p]!;
      p++;
      if (p === cap) p = 0;
    }
    this.idx = idx;
    this.gen = gen;
    this.head = 0;
  }

  byteLength(): number {
    return this.idx.byteLength + this.gen.byteLength;
  }
}

/** Binary min-heap of (due, timer index, generation). */
export class TimerHeap {
  due: Float64Array;
  idx: Int32Array;
  gen: Int32Array;
  len = 0;

  constructor(capacity = 256) {
    this.due = new Float64Array(capacity);
    this.idx = new Int32Array(capacity);
    this.gen = new Int32Array(capacity);
  }

  peek(): number {
    return this.len === 0 ? Number.POSITIVE_INFINITY : this.due[0]!;
  }

  push(due: number, idx: number, gen: number): void {
    if (this.len === this.due.length) this.grow();
    const d = this.due;
    let i = this.len++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (d[parent]! <= due) break;
      d[i] = d[parent]!;
      this.idx[i] = this.idx[parent]!;
      this.gen[i] = this.gen[parent]!;
      i = parent;
    }
    d[i] = due;
    this.idx[i] = idx;
    this.gen[i] = gen;
  }

  /** Removes the minimum; read it first from due[0], idx[0], gen[0]. */
  pop(): void {
    const n = --this.len;
    if (n === 0) return;
    const d = this.due;
    const due = d[n]!;
    const idx = this.idx[n]!;
    const gen = this.gen[n]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && d[c + 1]! < d[c]!) c++;
      if (d[c]! >= due) break;
      d[i] = d[c]!;
      this.idx[i] = this.idx[c]!;
      this.gen[i] = this.gen[c]!;
      i = c;
    }
    d[i] = due;
    this.idx[i] = idx;
    this.gen[i] = gen;
  }

  private grow(): void {
    const n = this.due.length * 2;
    const due = new Float64Array(n);
    due.set(this.due);
    const idx = new Int32Array(n);
    idx.set(this.idx);
    const gen = new Int32Array(n);
    gen.set(this.gen);
    this.due = due;
    this.idx = idx;
    this.gen = gen;
  }

  byteLength(): number {
    return this.due.byteLength + this.idx.byteLength + this.gen.byteLength;
  }
}
