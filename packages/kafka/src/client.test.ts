import { describe, expect, it, vi } from 'vitest';
import { logLevel } from 'kafkajs';
import type { Logger } from '@tillwatch/config';
import { createKafka, kafkajsLevel, parseBrokers, pinoLogCreator } from './client';

function fakeLogger(level = 'info') {
  const calls: { method: string; fields: Record<string, unknown>; msg: string }[] = [];
  const rec = (method: string) => (fields: Record<string, unknown>, msg: string) =>
    calls.push({ method, fields, msg });
  const logger = {
    level,
    error: rec('error'),
    warn: rec('warn'),
    info: rec('info'),
    debug: rec('debug'),
  } as unknown as Logger;
  return { logger, calls };
}

describe('brokers', () => {
  it('accepts a comma list as KAFKA_BROKERS holds it', () => {
    expect(parseBrokers(' a:9092, b:9093 ,')).toEqual(['a:9092', 'b:9093']);
    expect(parseBrokers(['a:1'])).toEqual(['a:1']);
  });
  it('names the variable when there is none', () => {
    expect(() => parseBrokers(' , ')).toThrow(/KAFKA_BROKERS/);
  });
});

describe('kafkajs logs into pino', () => {
  it('maps levels both ways', () => {
    expect(kafkajsLevel('debug')).toBe(logLevel.DEBUG);
    expect(kafkajsLevel('warn')).toBe(logLevel.WARN);
    expect(kafkajsLevel('silent')).toBe(logLevel.NOTHING);
  });

  it('writes one structured entry per kafkajs log, namespace and extras kept', () => {
    const { logger, calls } = fakeLogger();
    const log = pinoLogCreator(logger)(logLevel.INFO);
    log({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: {
        message: 'Response Metadata',
        timestamp: 'x',
        broker: '127.0.0.1:9092',
        error: 'boom',
      },
    });
    log({
      namespace: 'Consumer',
      level: logLevel.WARN,
      label: 'WARN',
      log: { message: 'slow', timestamp: 'x' },
    });
    expect(calls).toEqual([
      {
        method: 'error',
        fields: { kafkajs: 'Connection', broker: '127.0.0.1:9092', error: 'boom' },
        msg: 'Response Metadata',
      },
      { method: 'warn', fields: { kafkajs: 'Consumer' }, msg: 'slow' },
    ]);
  });

  it('logs the retried CONCURRENT_TRANSACTIONS at debug, other errors at error', () => {
    const { logger, calls } = fakeLogger('debug');
    const log = pinoLogCreator(logger)(logLevel.DEBUG);
    const concurrent =
      'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';
    log({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: {
        message: 'Response AddPartitionsToTxn(key: 24, version: 1)',
        timestamp: 'x',
        error: concurrent,
      },
    });
    log({
      namespace: 'Producer',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { message: `Failed to send messages: ${concurrent}`, timestamp: 'x', retryCount: 0 },
    });
    log({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: {
        message: 'Response Produce',
        timestamp: 'x',
        error: 'The group coordinator is not available',
      },
    });
    expect(calls.map((c) => c.method)).toEqual(['debug', 'debug', 'error']);
  });

  it('createKafka wires the creator so client logs reach the logger', () => {
    const { logger, calls } = fakeLogger('debug');
    const kafka = createKafka({ brokers: '127.0.0.1:1', clientId: 'unit', logger });
    kafka.logger().warn('hello from kafkajs', { extra: 1 });
    expect(calls.some((c) => c.method === 'warn' && c.msg === 'hello from kafkajs')).toBe(true);
    const silent = createKafka({ brokers: '127.0.0.1:1', clientId: 'unit' });
    const spy = vi.spyOn(console, 'log');
    silent.logger().error('nobody hears this');
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });
});
