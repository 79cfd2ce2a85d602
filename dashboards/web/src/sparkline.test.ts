import { describe, expect, it } from 'vitest';
import { hourSpan } from './format';
import { sparkPath } from './sparkline';

describe('sparkline', () => {
  it('left to right across the width, 0 at the bottom, the top value at the top', () => {
    expect(sparkPath([0, 5, 10], 100, 22)).toBe('M0,21L50,11L100,1');
  });
  it('a shared top keeps two series on one scale; all zeros lie on the bottom', () => {
    expect(sparkPath([5], 100, 22, 10)).toBe('M0,11');
    expect(sparkPath([0, 0], 10, 12)).toBe('M0,11L10,11');
    expect(sparkPath([], 10, 12)).toBe('');
  });
});

describe('hourSpan', () => {
  it('24-hour local times with the zone named', () => {
    const from = Date.parse('2026-03-02T13:37:00Z');
    expect(hourSpan(from, from + 3_600_000, 'Asia/Shanghai')).toBe('21:37–22:37 Asia/Shanghai');
    expect(hourSpan(from, from + 3_600_000, 'Asia/Urumqi')).toBe('19:37–20:37 Asia/Urumqi');
  });
});
