/**
 * How a coding CLI's run ended, from the tool's own result, and what that means for the engine: the error
 * code of the attempt and whether another attempt can help. Budget and authentication failures are not
 * retried (a second try spends more, or fails the same way); a rate limit is, after the engine's backoff;
 * max turns and invalid output are not (the same prompt hits the same limit; a CLI whose output we cannot
 * read is the wrong version, not a fluke); a crash is (a process that died may not die again).
 */
import type { ErrorBody, Usage } from '../../../bus/envelope.js';
import type { ErrorCode } from '../../../core/errors.js';
import type { RunnerOutcome } from '../../runner.js';

export type FailureClass = 'max_turns' | 'budget' | 'rate_limited' | 'auth' | 'crash' | 'output_invalid';

export const FAILURE_CODES: Record<FailureClass, { code: ErrorCode; retryable: boolean }> = {
  max_turns: { code: 'HIVE_ERR_RUNNER_MAX_TURNS', retryable: false },
  budget: { code: 'HIVE_ERR_RUNNER_BUDGET', retryable: false },
  rate_limited: { code: 'HIVE_ERR_RUNNER_RATE_LIMITED', retryable: true },
  auth: { code: 'HIVE_ERR_RUNNER_AUTH', retryable: false },
  crash: { code: 'HIVE_ERR_RUNNER_CRASH', retryable: true },
  output_invalid: { code: 'HIVE_ERR_RUNNER_OUTPUT_INVALID', retryable: false },
};

/** What a tool's parser concludes once the process has exited. */
export type Classified =
  | { ok: true; result: string; details: Record<string, unknown> }
  | { ok: false; class: FailureClass; message: string; details: Record<string, unknown> };

export function failure(
  cls: FailureClass,
  message: string,
  details: Record<string, unknown> = {},
): Classified {
  return { ok: false, class: cls, message, details };
}

export function failedOutcome(c: Extract<Classified, { ok: false }>, usage?: Usage): RunnerOutcome {
  const { code, retryable } = FAILURE_CODES[c.class];
  const error: ErrorBody = { code, message: c.message, details: { class: c.class, ...c.details } };
  return usage ? { ok: false, error, retryable, usage } : { ok: false, error, retryable };
}

// Phrases the CLIs and their API clients print for these failures (HTTP statuses included: 429, 401/403).
const RATE_LIMIT =
  /\b429\b|rate[ _-]?limit|too many requests|overloaded|quota exceeded|usage limit|resource[ _]exhausted/i;
const AUTH =
  /\b401\b|\b403\b|unauthori[sz]ed|authentication|invalid api key|api key not valid|not logged in|please run \/login|credit balance/i;

/** A failure described only by text: rate limit and auth are recognised, anything else is `fallback`. */
export function classifyText(text: string, fallback: FailureClass = 'crash'): FailureClass {
  if (RATE_LIMIT.test(text)) return 'rate_limited';
  if (AUTH.test(text)) return 'auth';
  return fallback;
}

/** Keeps log lines and error messages readable: a model's answer can be megabytes. */
export function clip(text: string, max = 2_000): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Sums usage the way CONTRACT §6 reports it; fields a tool does not report stay absent. */
export function addUsage(a: Usage | undefined, b: Usage): Usage {
  const out: Usage = { ...(a ?? {}) };
  for (const k of ['inputTokens', 'outputTokens', 'costUsd'] as const) {
    if (b[k] !== undefined) out[k] = (out[k] ?? 0) + b[k]!;
  }
  return out;
}
