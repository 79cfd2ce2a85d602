/**
 * The last `capacity` distinct event ids, FIFO, as 64-bit hashes: a ring of (lo, hi) in
 * arrival order plus a linear-probing table of ring positions. 8 B per id in the ring and
 * 8 B per id in the table at load <= 0.5: 16 MB for the default 2^20 ids. Both grow by
 * doubling until `capacity`, so a small stream does not pay for the full window.
 *
 * A new id that collides with a remembered one in all 64 bits is taken for a duplicate:
 * probability ~ capacity / 2^64 per event (5.7e-14 at 2^20).
 */
export class DedupWindow {
  readonly capacity: number;
  ringLo: Int32Array;
  ringHi: Int32Array;
  /** ring position + 1; 0 = empty */
  table: Int32Array;
  mask: number;
  count = 0;
  /** once full: the oldest id's position, overwritten next */
  head = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    const initial = Math.min(capacity, 1024);
    this.ringLo = new Int32Array(initial);
    this.ringHi = new Int32Array(initial);
    this.table = new Int32Array(tableSizeFor(initial));
    this.mask = this.table.length - 1;
  }

  /** True if (lo, hi) is remembered; otherwise remembers it (evicting the oldest when full). */
  seenOrAdd(lo: number, hi: number): boolean {
    const table = this.table;
    const mask = this.mask;
    const rl = this.ringLo;
    const rh = this.ringHi;
    let i = lo & mask;
    for (;;) {
      const v = table[i]!;
      if (v === 0) break;
      if (rl[v - 1] === lo && rh[v - 1] === hi) return true;
      i = (i + 1) & mask;
    }
    let pos: number;
    if (this.count === this.capacity) {
      pos = this.head;
      this.remove(pos);
      this.head = pos + 1 === this.capacity ? 0 : pos + 1;
      // the removal may have shifted entries into the probe path: find the free slot again
      i = lo & mask;
      while (table[i] !== 0) i = (i + 1) & mask;
    } else {
      if (this.count === rl.length) {
        this.grow();
        return this.seenOrAdd(lo, hi);
      }
      pos = this.count++;
    }
    this.ringLo[pos] = lo;
    this.ringHi[pos] = hi;
    table[i] = pos + 1;
    return false;
  }

  /** Linear-probing deletion by backward shift: no tombstones, probe chains stay short. */
  private remove(pos: number): void {
    const table = this.table;
    const mask = this.mask;
    const rl = this.ringLo;
    let i = rl[pos]! & mask;
    while (table[i] !== pos + 1) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const v = table[j]!;
      if (v === 0) break;
      const home = rl[v - 1]! & mask;
      // move v back into the hole at i unless its home lies cyclically in (i, j]
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        table[i] = v;
        i = j;
      }
    }
    table[i] = 0;
  }

  private grow(): void {
    const size = Math.min(this.capacity, this.ringLo.length * 2);
    const lo = new Int32Array(size);
    const hi = new Int32Array(size);
    lo.set(this.ringLo);
    hi.set(this.ringHi);
    this.ringLo = lo;
    this.ringHi = hi;
    this.table = new Int32Array(tableSizeFor(size));
    this.mask = this.table.length - 1;
    for (let p = 0; p < this.count; p++) {
      let i = lo[p]! & this.mask;
      while (this.table[i] !== 0) i = (i + 1) & this.mask;
      this.table[i] = p + 1;
    }
  }

  byteLength(): number {
    return this.ringLo.byteLength + this.ringHi.byteLength + this.table.byteLength;
  }
}

function tableSizeFor(n: number): number {
  let s = 4;
  while (s < n * 2) s *= 2;
  return s;
}
