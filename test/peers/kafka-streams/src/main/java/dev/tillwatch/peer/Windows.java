package dev.tillwatch.peer;

/**
 * The processor's windows (packages/core DEFAULT_ENGINE_CONFIG): 1m of 5 s panes, 5m of 10 s,
 * 15m of 30 s, 1h of 2 min, 10 s allowed lateness. Every pane is a whole number of 5 s base
 * panes, so the base pane is the unit of state and of time.
 */
final class Windows {
  static final long BASE = 5_000;
  static final long LATENESS = 10_000;
  static final long[] WINDOW = {60_000, 300_000, 900_000, 3_600_000};
  static final long[] PANE = {5_000, 10_000, 30_000, 120_000};
  static final String[] LABEL = {"1m", "5m", "15m", "1h"};
  static final int N = WINDOW.length;
  /** ring of panes per window: the window's panes, the lateness, and two to spare */
  static final int[] RING = new int[N];
  /** first slot of window w's ring in an entity's flat arrays */
  static final int[] OFF = new int[N];
  static final int SLOTS;
  /** counters per slot: auths, failures, reversals, events (every type) */
  static final int C = 4;
  static final int AUTHS = 0, FAILURES = 1, REVERSALS = 2, EVENTS = 3;

  static {
    int off = 0;
    for (int w = 0; w < N; w++) {
      RING[w] = (int) (WINDOW[w] / PANE[w] + (LATENESS + PANE[w] - 1) / PANE[w] + 2);
      OFF[w] = off;
      off += RING[w];
    }
    SLOTS = off;
  }

  /** how long a base pane must stay in the store: the longest window, its pane, the lateness */
  static final long RETENTION = WINDOW[N - 1] + PANE[N - 1] + LATENESS + BASE;

  private Windows() {}
}
