package dev.tillwatch.peer;

import static dev.tillwatch.peer.Windows.*;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Bytes;

/**
 * One terminal or merchant: per window a ring of pane counters (flat arrays, no objects per
 * pane). The rings are working memory derived from the store of 5 s base panes, rebuilt from
 * it on restore.
 */
final class Entity {
  final byte scope; // 't' or 'm'
  final String id;
  final byte[] idBytes;
  /** a terminal: its panes under its merchant (the one the store holds), null for a merchant */
  Pair pair;
  final long[] start = new long[SLOTS];
  final int[] cnt = new int[SLOTS * C];
  /** start of the newest base pane with an event */
  long newest = Long.MIN_VALUE;
  /** in the processor's active list (may still have a pane to emit) */
  boolean active;

  Entity(byte scope, String id) {
    this.scope = scope;
    this.id = id;
    this.idBytes = id.getBytes(StandardCharsets.UTF_8);
    java.util.Arrays.fill(start, Long.MIN_VALUE);
  }

  static int slot(int w, long paneStart) {
    return OFF[w] + (int) Math.floorMod(paneStart / PANE[w], (long) RING[w]);
  }

  /** Add counts at event time ts to every window's pane; returns the base pane's slot. */
  int add(long ts, int auths, int failures, int reversals, int events) {
    int base = -1;
    for (int w = 0; w < N; w++) {
      long ps = ts - Math.floorMod(ts, PANE[w]);
      int s = slot(w, ps);
      if (start[s] != ps) {
        if (start[s] > ps) continue; // restore: a newer pane already holds the slot
        start[s] = ps;
        int o = s * C;
        cnt[o] = cnt[o + 1] = cnt[o + 2] = cnt[o + 3] = 0;
      }
      int o = s * C;
      cnt[o + AUTHS] += auths;
      cnt[o + FAILURES] += failures;
      cnt[o + REVERSALS] += reversals;
      cnt[o + EVENTS] += events;
      if (w == 0) base = s;
    }
    long bp = ts - Math.floorMod(ts, BASE);
    if (bp > newest) newest = bp;
    return base;
  }

  /** events in window w's pane [end - PANE[w], end) */
  boolean movedIn(int w, long end) {
    long ps = end - PANE[w];
    int s = slot(w, ps);
    return start[s] == ps && cnt[s * C + EVENTS] > 0;
  }

  /** sums over window w ending at end, into out[0..2] (auths, failures, reversals) */
  void sum(int w, long end, long[] out) {
    long from = end - WINDOW[w];
    out[0] = out[1] = out[2] = 0;
    for (int s = OFF[w], e = OFF[w] + RING[w]; s < e; s++) {
      long ps = start[s];
      if (ps >= from && ps < end) {
        int o = s * C;
        out[0] += cnt[o + AUTHS];
        out[1] += cnt[o + FAILURES];
        out[2] += cnt[o + REVERSALS];
      }
    }
  }

  /**
   * A terminal's base panes under one merchant: what the store holds (key = terminal, 0,
   * merchant). Merchants' panes are not stored: they are the sums of their terminals' panes,
   * rebuilt on restore, so an event costs one store put, not two.
   */
  static final class Pair {
    final String merchantId;
    final Bytes key;
    final long[] start = new long[RING[0]];
    final int[] cnt = new int[RING[0] * C];

    Pair(byte[] terminal, String merchantId) {
      this.merchantId = merchantId;
      byte[] m = merchantId.getBytes(StandardCharsets.UTF_8);
      byte[] k = new byte[terminal.length + 1 + m.length];
      System.arraycopy(terminal, 0, k, 0, terminal.length);
      System.arraycopy(m, 0, k, terminal.length + 1, m.length);
      this.key = Bytes.wrap(k);
      java.util.Arrays.fill(start, Long.MIN_VALUE);
    }

    /** the base pane's slot after adding (ps: the base pane's start) */
    int add(long ps, int auths, int failures, int reversals, int events) {
      int s = (int) Math.floorMod(ps / BASE, (long) RING[0]);
      if (start[s] != ps) {
        if (start[s] > ps) return -1;
        start[s] = ps;
        int o = s * C;
        cnt[o] = cnt[o + 1] = cnt[o + 2] = cnt[o + 3] = 0;
      }
      int o = s * C;
      cnt[o + AUTHS] += auths;
      cnt[o + FAILURES] += failures;
      cnt[o + REVERSALS] += reversals;
      cnt[o + EVENTS] += events;
      return s;
    }
  }
}
