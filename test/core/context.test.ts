import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  contextFromEnv,
  contextToEnv,
  contextToFields,
  currentContext,
  newContext,
  runInContext,
  withContext,
} from '../../src/core/context.js';
import { isValidCorrelationId, newId } from '../../src/core/ids.js';
import { createLogger, redactUrl } from '../../src/core/logger.js';
import { formatTraceparent, parseTraceparent } from '../../src/core/traceparent.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination: stream }) };
}

describe('correlation context', () => {
  it('generates time-sortable IDs and validates the header pattern', () => {
    const a = newId();
    const b = newId();
    expect(a < b).toBe(true);
    expect(isValidCorrelationId('order-42:retry.1')).toBe(true);
    for (const bad of ['', '-x', 'a b', 'x'.repeat(129), 'é', 'a/b'])
      expect(isValidCorrelationId(bad)).toBe(false);
  });

  it('continues a valid traceparent and ignores invalid ones', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(parseTraceparent(tp)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: '01',
    });
    const ctx = newContext({ traceparent: tp, correlationId: 'keep-me' });
    expect(ctx.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(ctx.spanId).not.toBe('00f067aa0ba902b7');
    expect(ctx.correlationId).toBe('keep-me');
    for (const bad of [
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-xyz',
      'garbage',
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
    expect(newContext({ traceparent: 'garbage', correlationId: 'bad id!' }).correlationId).not.toBe(
      'bad id!',
    );
    expect(parseTraceparent(formatTraceparent(ctx.traceId, ctx.spanId))).toBeDefined();
  });

  it('writes a context into message fields and a child environment, and reads it back', () => {
    const ctx = newContext({ correlationId: 'cid-1', workflowId: 'wf', taskId: 't' });
    expect(contextToFields(ctx).cid).toBe('cid-1');
    const env = contextToEnv(ctx);
    expect(env).toMatchObject({ HIVE_CORRELATION_ID: 'cid-1', HIVE_WORKFLOW_ID: 'wf', HIVE_TASK_ID: 't' });
    const back = contextFromEnv(env);
    expect(back.correlationId).toBe('cid-1');
    expect(back.traceId).toBe(ctx.traceId);
  });

  it('adds the IDs to every log line, also in a timer started inside the context', async () => {
    const { lines, logger } = capture();
    await new Promise<void>((resolve) => {
      runInContext(newContext({ correlationId: 'log-cid', workflowId: 'wf-1' }), () => {
        logger.info('inside');
        setTimeout(() => {
          withContext({ taskId: 'task-9' }, () => logger.info('in a timer'));
          resolve();
        }, 5);
      });
    });
    logger.info('outside');
    logger.flush();
    await new Promise((r) => setTimeout(r, 20));
    const inside = lines.find((l) => l.msg === 'inside')!;
    const timer = lines.find((l) => l.msg === 'in a timer')!;
    expect(inside.correlationId).toBe('log-cid');
    expect(inside.workflowId).toBe('wf-1');
    expect(timer.correlationId).toBe('log-cid');
    expect(timer.taskId).toBe('task-9');
    expect(lines.find((l) => l.msg === 'outside')!.correlationId).toBeUndefined();
    expect(currentContext()).toBeUndefined();
  });

  it('redacts tokens, authorization headers and URL passwords', async () => {
    const { lines, logger } = capture();
    logger.info(
      {
        token: 'sekret',
        req: { headers: { authorization: 'Bearer sekret' } },
        url: redactUrl('redis://:sekret@host:6379'),
      },
      'x',
    );
    logger.flush();
    await new Promise((r) => setTimeout(r, 20));
    expect(JSON.stringify(lines)).not.toContain('sekret');
  });
});
