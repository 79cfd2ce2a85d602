package dev.tillwatch.peer;

import static dev.tillwatch.peer.Windows.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Per task (one input partition): every event adds to its terminal's and its merchant's 5 s
 * base pane. The store of panes ("panes", a window store of 5 s windows) holds the terminals'
 * base panes only (key = terminalId, 0, merchantId; value = auths, failures, reversals, events
 * and the task's max event time): a merchant's pane is the sum of its terminals' panes, so one
 * put per event; restore rebuilds both from it. The windows
 * are not separate stores: each entity keeps, in plain arrays, a ring of panes per window
 * (5 s, 10 s, 30 s, 2 min) that the store's base panes fully determine, and a window is the sum
 * of its ring's panes in [end - window, end).
 *
 * Time is the processor's: watermark = max event time - 10 s lateness; an event below the
 * watermark is late and dropped; when the watermark reaches a 5 s boundary b the base pane
 * ending at b is closed, and for every window whose pane ends at b (b a multiple of its pane)
 * one record per key with events in that pane goes out: the key's auths, failures and
 * reversals over the window ending at b (the processor's stats rows, event-stage.ts emitStats).
 */
final class PaneProcessor implements Processor<byte[], Ev, byte[], byte[]> {
  static final String STORE = "panes";

  private ProcessorContext<byte[], byte[]> ctx;
  private WindowStore<Bytes, byte[]> store;
  private final HashMap<String, Entity> terminals = new HashMap<>();
  private final HashMap<String, Entity> merchants = new HashMap<>();
  /** entities that may still have a pane to emit */
  private final ArrayList<Entity> active = new ArrayList<>();
  private boolean restored;
  private long maxTs = Long.MIN_VALUE;
  /** the newest 5 s boundary closed */
  private long closed = Long.MIN_VALUE;
  private final long[] sums = new long[3];
  private final StringBuilder sb = new StringBuilder(160);
  /** every processor of this JVM, for the run's summary line (read after the streams close) */
  static final java.util.Queue<PaneProcessor> ALL = new java.util.concurrent.ConcurrentLinkedQueue<>();
  /** window records forwarded, late events dropped (per processor: no shared counter per event) */
  long emitted, late;

  static long emittedAll() {
    return ALL.stream().mapToLong(p -> p.emitted).sum();
  }

  static long lateAll() {
    return ALL.stream().mapToLong(p -> p.late).sum();
  }

  private final HashMap<String, Entity.Pair> pairs = new HashMap<>();

  @Override
  public void init(ProcessorContext<byte[], byte[]> context) {
    ALL.add(this);
    this.ctx = context;
    this.store = context.getStateStore(STORE);
  }

  /**
   * Restore: the store (rebuilt from its changelog by Kafka Streams before the task runs) holds
   * every base pane of the last hour; the rings, the max event time and the keys with panes to
   * close follow from it. Run at the first record rather than in init() (the same store, the
   * same result): a test can then fill a fresh store the way a restore does (PaneRestoreTest).
   */
  private void restore() {
    try (KeyValueIterator<Windowed<Bytes>, byte[]> it = store.all()) {
      while (it.hasNext()) {
        KeyValue<Windowed<Bytes>, byte[]> kv = it.next();
        byte[] k = kv.key.key().get();
        int z = 0;
        while (k[z] != 0) z++;
        String tid = new String(k, 0, z, StandardCharsets.UTF_8);
        String mid = new String(k, z + 1, k.length - z - 1, StandardCharsets.UTF_8);
        Entity t = entity(terminals, (byte) 't', tid);
        Entity m = entity(merchants, (byte) 'm', mid);
        ByteBuffer v = ByteBuffer.wrap(kv.value);
        long ps = kv.key.window().start();
        int a = v.getInt(), f = v.getInt(), r = v.getInt(), n = v.getInt();
        t.add(ps, a, f, r, n);
        m.add(ps, a, f, r, n);
        pair(t, mid).add(ps, a, f, r, n);
        activate(t);
        activate(m);
        maxTs = Math.max(maxTs, v.getLong());
      }
    }
    if (maxTs != Long.MIN_VALUE) closed = Math.floorDiv(maxTs - LATENESS, BASE) * BASE;
  }

  private Entity entity(HashMap<String, Entity> map, byte scope, String id) {
    Entity e = map.get(id);
    if (e == null) {
      e = new Entity(scope, id);
      map.put(id, e);
    }
    return e;
  }

  private void activate(Entity e) {
    if (!e.active) {
      e.active = true;
      active.add(e);
    }
  }

  @Override
  public void process(Record<byte[], Ev> record) {
    if (!restored) {
      restore();
      restored = true;
    }
    Ev ev = record.value();
    if (ev == null) return;
    long ts = record.timestamp();
    if (maxTs != Long.MIN_VALUE && ts < maxTs - LATENESS) {
      late++;
      return;
    }
    if (ts > maxTs) {
      if (maxTs == Long.MIN_VALUE) closed = Math.floorDiv(ts - LATENESS, BASE) * BASE;
      else advance(ts - LATENESS);
      maxTs = ts;
    }
    int a = 0, f = 0, r = 0;
    if (ev.type == Ev.AUTH) {
      a = 1;
      f = ev.failed ? 1 : 0;
    } else if (ev.type == Ev.REVERSAL) r = 1;
    Entity t = entity(terminals, (byte) 't', ev.terminalId);
    t.add(ts, a, f, r, 1);
    activate(t);
    Entity m = entity(merchants, (byte) 'm', ev.merchantId);
    m.add(ts, a, f, r, 1);
    activate(m);
    // The terminal's base pane under its merchant into the store (cached: one changelog record
    // per pane per commit, not per event); the merchant's pane is the sum of these.
    Entity.Pair p = t.pair;
    if (p == null || !p.merchantId.equals(ev.merchantId)) p = t.pair = pair(t, ev.merchantId);
    long ps = ts - Math.floorMod(ts, BASE);
    int o = p.add(ps, a, f, r, 1) * C;
    byte[] v = new byte[24];
    ByteBuffer.wrap(v)
        .putInt(p.cnt[o + AUTHS])
        .putInt(p.cnt[o + FAILURES])
        .putInt(p.cnt[o + REVERSALS])
        .putInt(p.cnt[o + EVENTS])
        .putLong(maxTs);
    store.put(p.key, v, ps);
  }

  /** a terminal's panes under one merchant (one per terminal, unless a terminal moves) */
  private Entity.Pair pair(Entity t, String merchantId) {
    String k = t.id + '\u0000' + merchantId;
    Entity.Pair p = pairs.get(k);
    if (p == null) {
      p = new Entity.Pair(t.idBytes, merchantId);
      pairs.put(k, p);
    }
    return p;
  }

  /** The watermark moved to wm: close every 5 s boundary up to it. */
  private void advance(long wm) {
    long target = Math.floorDiv(wm, BASE) * BASE;
    for (long b = closed + BASE; b <= target && !active.isEmpty(); b += BASE) close(b);
    if (target > closed) closed = target;
  }

  private void close(long b) {
    long lastEnd = b; // an entity whose newest pane ended for every window by b is done
    for (int i = active.size() - 1; i >= 0; i--) {
      Entity e = active.get(i);
      for (int w = 0; w < N; w++) {
        if (b % PANE[w] == 0 && e.movedIn(w, b)) emit(e, w, b);
      }
      long coarse = PANE[N - 1];
      long end = Math.floorDiv(e.newest, coarse) * coarse + coarse;
      if (end <= lastEnd) {
        e.active = false;
        int last = active.size() - 1;
        active.set(i, active.get(last));
        active.remove(last);
      }
    }
  }

  private void emit(Entity e, int w, long end) {
    e.sum(w, end, sums);
    StringBuilder s = sb;
    s.setLength(0);
    s.append("{\"scope\":\"")
        .append(e.scope == 't' ? "terminal" : "merchant")
        .append("\",\"key\":\"")
        .append(e.id) // ids are [A-Za-z0-9_.:-] (contract): nothing to escape
        .append("\",\"window\":\"")
        .append(LABEL[w])
        .append("\",\"end\":")
        .append(end)
        .append(",\"auths\":")
        .append(sums[0])
        .append(",\"failures\":")
        .append(sums[1])
        .append(",\"reversals\":")
        .append(sums[2])
        .append('}');
    emitted++;
    ctx.forward(new Record<>(e.idBytes, s.toString().getBytes(StandardCharsets.UTF_8), end));
  }
}
