import { createLogger, type Logger } from '@tillwatch/config';

/** A logger for tests that keeps every line at `level` or above as { level, msg } in `lines`. */
export function capturingLogger(
  lines: { level: number; msg: string }[],
  level: 'warn' | 'info' = 'warn',
): Logger {
  return createLogger('test', {
    level,
    pretty: false,
    hooks: {
      logMethod(args, method, lvl) {
        lines.push({ level: lvl, msg: args.map(String).join(' ') });
        method.apply(this, args);
      },
    },
  });
}
