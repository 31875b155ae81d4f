import pino, { type Logger } from 'pino';
import { currentContext } from './context.js';

export type { Logger };

/**
 * Paths pino removes from every line. Tokens and authorization headers are the secrets that end up in
 * request logs; URLs are scrubbed separately by `redactUrl` because their password sits inside a string.
 */
const REDACT_PATHS = [
  'token',
  '*.token',
  'apiToken',
  '*.apiToken',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.headers.authorization',
];

/** Replaces the password of a URL (`redis://:secret@host`) so that connection strings can be logged. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^/:@]*:)[^@/]*@/, '$1***@');
}

export interface LoggerOptions {
  level?: string;
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // The mixin runs for every line, so a line written in a timer or callback started inside a context
      // still carries that context's IDs (AsyncLocalStorage follows the async resource).
      mixin() {
        const ctx = currentContext();
        if (!ctx) return {};
        const ids: Record<string, string> = {
          correlationId: ctx.correlationId,
          traceId: ctx.traceId,
          spanId: ctx.spanId,
        };
        if (ctx.workflowId) ids.workflowId = ctx.workflowId;
        if (ctx.taskId) ids.taskId = ctx.taskId;
        if (ctx.agent) ids.agent = ctx.agent;
        return ids;
      },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

let root: Logger | undefined;

/** The process-wide logger, created on first use at boot with the configured level. */
export function rootLogger(): Logger {
  root ??= createLogger({ level: process.env.HIVE_LOG_LEVEL ?? 'info' });
  return root;
}

export function setRootLogger(logger: Logger): void {
  root = logger;
}

/** A component's logger: `coordinator`, `api`, `agent:backend_agent`… */
export function componentLogger(component: string): Logger {
  return rootLogger().child({ component });
}
