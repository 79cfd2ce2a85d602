/**
 * Timers ordered by due time, as a ring sorted by insertion from the tail. Every timer kind has
 * one fixed delay (settlement deadline, reversal grace), and accepted events are at most
 * `allowedLateness` behind the newest, so a new due is at most that far behind the tail: the
 * walk back is a few entries, and pop is O(1) — no log n heap sift through cache-cold levels.
 * Entries are (due, timer index, timer generation); a cancelled or replaced timer leaves a stale
 * entry that the owner skips by generation.
 */
export class DueQueue {
  due: Float64Array;
  idx: Int32Array;
  gen: Int32Array;
  head = 0;
  len = 0;

  constructor(capacity = 1024) {
    this.due = new Float64Array(capacity);
    this.idx = new Int32Array(capacity);
    this.gen = new Int32Array(capacity);
  }

  push(due: number, idx: number, gen: number): void {
    if (this.len === this.due.length) this.grow();
    const cap = this.due.length;
    const d = this.due;
    let pos = this.head + this.len;
    if (pos >= cap) pos -= cap;
    let n = this.len;
    // shift later entries one step towards the tail until due fits
    while (n > 0) {
      let prev = pos - 1;
      if (prev < 0) prev = cap - 1;
      if (d[prev]! <= due) break;
      d[pos] = d[prev]!;
      this.idx[pos] = this.idx[prev]!;
      this.gen[pos] = this.gen[prev]!;
      pos = prev;
      n--;
    }
    d[pos] = due;
    this.idx[pos] = idx;
    this.gen[pos] = gen;
    this.len++;
  }

  /** Due time of the earliest entry, or +Infinity. */
  peek(): number {
    return this.len === 0 ? Number.POSITIVE_INFINITY : this.due[this.head]!;
  }

  shift(): void {
    this.len--;
    this.head++;
    if (this.head === this.due.length) this.head = 0;
  }

  private grow(): void {
    const cap = this.due.length;
    const due = new Float64Array(cap * 2);
    const idx = new Int32Array(cap * 2);
    const gen = new Int32Array(cap * 2);
    for (let k = 0, p = this.head; k < this.len; k++) {
      due[k] = this.due[p]!;
      idx[k] = this.idx[p]!;
      gen[k] = this.gen[p]!;
      p++;
      if (p === cap) p = 0;
    }
    this.due = due;
    this.idx = idx;
    this.gen = gen;
    this.head = 0;
  }

  byteLength(): number {
    return this.due.byteLength + this.idx.byteLength + this.gen.byteLength;
  }
}
