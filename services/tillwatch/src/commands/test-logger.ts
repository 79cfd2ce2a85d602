import { createLogger, type Logger } from '@tillwatch/config';

/** A logger for tests that keeps every warning and error as { level, msg } in `lines`. */
export function capturingLogger(lines: { level: number; msg: string }[]): Logger {
  return createLogger('test', {
    level: 'warn',
    pretty: false,
    hooks: {
      logMethod(args, method, lvl) {
        lines.push({ level: lvl, msg: args.map(String).join(' ') });
        method.apply(this, args);
      },
    },
  });
}
