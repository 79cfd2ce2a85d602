import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Api } from './api';
import type { BoardState } from './state';

/** socket.io-client replaced by an emitter: the test plays the gateway's refusals. */
const fake = vi.hoisted(() => {
  const handlers = new Map<string, (arg?: unknown) => void>();
  return {
    handlers,
    connects: 0,
    socket: {
      recovered: false,
      on(ev: string, fn: (arg?: unknown) => void) {
        handlers.set(ev, fn);
      },
      connect() {
        fake.connects++;
      },
      emit() {},
    },
  };
});
vi.mock('socket.io-client', () => ({ io: () => fake.socket }));

const { Live } = await import('./live');

const refused = (message: string, data: unknown) => Object.assign(new Error(message), { data });

describe('the board’s live link', () => {
  afterEach(() => vi.useRealTimers());

  it('past the gateway’s limits (429) it connects again when it may; a bad key (401) it does not', () => {
    vi.useFakeTimers();
    const live = new Live(
      'key',
      {} as Api,
      {} as BoardState,
      () => '1m',
      () => {},
    );
    const fail = fake.handlers.get('connect_error')!;
    fail(
      refused('rate_limited', {
        status: 429,
        error: 'rate_limited',
        message: 'slow down',
        retryAfter: 7,
      }),
    );
    expect(live.status).toBe('reconnecting');
    vi.advanceTimersByTime(6_900);
    expect(fake.connects).toBe(0);
    vi.advanceTimersByTime(200);
    expect(fake.connects).toBe(1);
    fail(refused('unauthorized', { status: 401, error: 'unauthorized', message: 'bad key' }));
    expect(live.status).toBe('offline');
    vi.advanceTimersByTime(60_000);
    expect(fake.connects).toBe(1);
  });
});
