import { describe, expect, it } from 'vitest';
import { isoOrNull, isoTime } from '../../src/core/iso-time.js';

describe('isoTime', () => {
  it('writes every millisecond of a stretch as toISOString does', () => {
    const start = Date.UTC(2026, 11, 31, 23, 58, 0, 0); // across a minute, an hour, a day and a year boundary
    const wrong: number[] = [];
    for (let ms = start; ms < start + 180_000; ms += 1)
      if (isoTime(ms) !== new Date(ms).toISOString()) wrong.push(ms);
    expect(wrong).toEqual([]);
  });

  it('agrees at the extremes, before 1970, in extended years and with fractions', () => {
    const times = [0, -1, -59_999, -60_000, -60_001, 1.5, -1.5, 999.9, -0.4, 8.64e15, -8.64e15];
    times.push(
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(10000, 0, 1),
      Date.UTC(-1, 5, 6, 7, 8, 9, 10),
    );
    for (let i = 0; i < 2_000; i++) times.push(Math.floor((Math.random() * 2 - 1) * 8.64e15));
    for (const ms of times) expect(isoTime(ms), String(ms)).toBe(new Date(ms).toISOString());
  });

  it('refuses what toISOString refuses', () => {
    for (const bad of [Number.NaN, 8.64e15 + 1, Number.POSITIVE_INFINITY])
      expect(() => isoTime(bad)).toThrow(RangeError);
  });

  it('isoOrNull gives null for no date', () => {
    expect(isoOrNull(null)).toBeNull();
    expect(isoOrNull(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)))).toBe('2026-01-02T03:04:05.006Z');
  });
});
