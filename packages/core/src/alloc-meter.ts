import v8 from 'node:v8';

/**
 * Bytes the JS heap allocated between start() and stop(), from V8's own GC records
 * (v8.GCProfiler): the heap grows only by allocation between two collections, so the sum of
 * "used before this GC" less "used after the previous one", plus the growth since the last
 * GC, is what was allocated. Counts every space of this isolate (new, old, large objects,
 * code), not ArrayBuffer backing stores (off-heap) and not what escape analysis never
 * allocated. For benchmarks: divide by the events of the measured stretch. A bench tool, here
 * because core depends on nothing: the engine never imports it; the stream's and the processor's
 * benches import it as `@tillwatch/core/alloc-meter`.
 */
export interface AllocationMeter {
  start(): void;
  /** bytes allocated since start() */
  stop(): number;
}

export function allocationMeter(): AllocationMeter {
  let profiler: v8.GCProfiler | undefined;
  let used0 = 0;
  return {
    start() {
      profiler = new v8.GCProfiler();
      used0 = v8.getHeapStatistics().used_heap_size;
      profiler.start();
    },
    stop() {
      if (!profiler) throw new Error('allocationMeter: stop() before start()');
      const end = v8.getHeapStatistics().used_heap_size;
      const { statistics } = profiler.stop();
      profiler = undefined;
      let total = 0;
      let prev = used0;
      for (const g of statistics) {
        total += Math.max(0, g.beforeGC.heapStatistics.usedHeapSize - prev);
        prev = g.afterGC.heapStatistics.usedHeapSize;
      }
      return total + Math.max(0, end - prev);
    },
  };
}
