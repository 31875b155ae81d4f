import { describe, expect, it } from 'vitest';
import { AttemptAbort } from '../../src/agents/attempt-abort.js';

describe('an attempt abort', () => {
  it('is not aborted until aborted, and then keeps its first reason', () => {
    const a = new AttemptAbort();
    expect(a.aborted).toBe(false);
    expect(a.reason).toBeUndefined();
    a.abort('timeout');
    a.abort('cancelled');
    expect(a.aborted).toBe(true);
    expect(a.reason).toBe('timeout');
  });

  it('makes a signal that follows it when asked before the abort', () => {
    const a = new AttemptAbort();
    const signal = a.signal;
    const heard: unknown[] = [];
    signal.addEventListener('abort', () => heard.push(signal.reason));
    expect(signal.aborted).toBe(false);
    expect(a.signal).toBe(signal); // one signal per attempt
    a.abort('cancelled');
    expect(signal.aborted).toBe(true);
    expect(heard).toEqual(['cancelled']);
  });

  it('makes an aborted signal, with the reason, when first asked after the abort', () => {
    const a = new AttemptAbort();
    a.abort('shutdown');
    expect(a.signal.aborted).toBe(true);
    expect(a.signal.reason).toBe('shutdown');
  });
});
