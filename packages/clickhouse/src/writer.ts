import type { ClickHouse } from './client';

/**
 * Insert domain objects into one table, mapped to rows, as one JSONEachRow insert. Only tests
 * seed tables this way: the processor writes its own encoded batches (services/processor
 * store.ts), the gateway and notifier insert through their stores. The options argument is
 * accepted and ignored because services/gateway's production.int.test.ts still passes one;
 * `ch.insert(table, values.map(toRow))` is the same thing without it.
 */
export function tableWriter<T>(
  ch: ClickHouse,
  table: string,
  toRow: (value: T) => object,
  _opts?: object,
): { add(values: readonly T[]): Promise<void> } {
  return {
    add: (values) =>
      ch.insert(
        table,
        values.map((v) => toRow(v)),
      ),
  };
}
