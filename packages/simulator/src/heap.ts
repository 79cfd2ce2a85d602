/**
 * Binary min-heap of (time, ref) ordered by time then insertion sequence, in growable typed
 * arrays. The sequence tie-break makes pop order a pure function of push order, which is what
 * keeps a seeded run identical byte for byte. A 24 h default run keeps ~2 k terminal timers plus
 * ~100 k pending settlements here: a few MB, not one object per entry.
 */
export class TimerHeap {
  private times: Float64Array;
  private seqs: Float64Array;
  private refs: Int32Array;
  private n = 0;
  private seq = 0;

  constructor(capacity = 4096) {
    this.times = new Float64Array(capacity);
    this.seqs = new Float64Array(capacity);
    this.refs = new Int32Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  /** Time of the earliest entry, or +Infinity when empty. */
  peekTime(): number {
    return this.n > 0 ? this.times[0]! : Infinity;
  }

  push(time: number, ref: number): void {
    if (this.n === this.times.length) this.grow();
    const times = this.times,
      seqs = this.seqs,
      refs = this.refs;
    const s = this.seq++;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p]!;
      if (pt < time || (pt === time && seqs[p]! < s)) break;
      times[i] = pt;
      seqs[i] = seqs[p]!;
      refs[i] = refs[p]!;
      i = p;
    }
    times[i] = time;
    seqs[i] = s;
    refs[i] = ref;
  }

  /** Removes the earliest entry and returns its ref; call only when size > 0. */
  pop(): number {
    const times = this.times,
      seqs = this.seqs,
      refs = this.refs;
    const top = refs[0]!;
    const last = --this.n;
    if (last === 0) return top;
    const t = times[last]!,
      s = seqs[last]!,
      r = refs[last]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      const c2 = c + 1;
      if (
        c2 < last &&
        (times[c2]! < times[c]! || (times[c2] === times[c] && seqs[c2]! < seqs[c]!))
      ) {
        c = c2;
      }
      const ct = times[c]!;
      if (t < ct || (t === ct && s < seqs[c]!)) break;
      times[i] = ct;
      seqs[i] = seqs[c]!;
      refs[i] = refs[c]!;
      i = c;
    }
    times[i] = t;
    seqs[i] = s;
    refs[i] = r;
    return top;
  }

  private grow(): void {
    const cap = this.times.length * 2;
    const t = new Float64Array(cap);
    t.set(this.times);
    const s = new Float64Array(cap);
    s.set(this.seqs);
    const r = new Int32Array(cap);
    r.set(this.refs);
    this.times = t;
    this.seqs = s;
    this.refs = r;
  }
}
