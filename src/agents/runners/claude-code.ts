/**
 * Claude Code, headless: `claude -p PROMPT --output-format stream-json --verbose` (plus `--model`,
 * `--max-turns`, `--max-budget-usd`, `--permission-mode`, `--allowedTools`). stdout is one JSON event per
 * line: `system` (subtype `init`, with `session_id`), `assistant`, `user`, and finally `result` with `subtype`
 * (`success`, `error_max_turns`, `error_during_execution`, `error_max_budget_usd`), `is_error`, `result`,
 * `num_turns`, `duration_ms`, `total_cost_usd` and `usage`. The `result` event decides the outcome; the exit
 * code only matters when there is none.
 */
import { z } from 'zod';
import type { Usage } from '../../bus/envelope.js';
import type { ProgressStep } from '../runner.js';
import { type Classified, classifyText, clip, failure } from './coding/outcome.js';
import {
  type CodingOptions,
  type CodingTool,
  type Invocation,
  parseJsonLine,
  promptNeedsStdin,
  type Session,
  type SessionHooks,
  str,
} from './coding/tool.js';
import type { ProcessExit } from './process.js';

const apiUsage = z
  .object({
    input_tokens: z.number().nonnegative().optional(),
    output_tokens: z.number().nonnegative().optional(),
    cache_creation_input_tokens: z.number().nonnegative().optional(),
    cache_read_input_tokens: z.number().nonnegative().optional(),
  })
  .loose();

const resultEvent = z
  .object({
    type: z.literal('result'),
    subtype: z.string(),
    is_error: z.boolean().optional(),
    result: z.string().optional(),
    num_turns: z.number().optional(),
    duration_ms: z.number().optional(),
    total_cost_usd: z.number().nonnegative().optional(),
    session_id: z.string().optional(),
    usage: apiUsage.optional(),
    errors: z.array(z.unknown()).optional(),
  })
  .loose();
type ResultEvent = z.infer<typeof resultEvent>;

function tokens(u: z.infer<typeof apiUsage> | undefined): Usage {
  if (!u) return {};
  const input =
    (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
  return { inputTokens: input, outputTokens: u.output_tokens ?? 0 };
}

/** One readable line per content block list (text, tool calls, tool results). */
function describeContent(content: unknown): string {
  if (typeof content === 'string') return clip(content, 500);
  if (!Array.isArray(content)) return '';
  return content
    .map((b: Record<string, unknown>) => {
      if (b?.type === 'text') return clip(str(b.text) ?? '', 500);
      if (b?.type === 'tool_use') return `tool ${str(b.name)} ${clip(JSON.stringify(b.input ?? {}), 300)}`;
      if (b?.type === 'tool_result')
        return `result${b.is_error ? ' (error)' : ''} ${clip(typeof b.content === 'string' ? b.content : JSON.stringify(b.content ?? ''), 300)}`;
      if (b?.type === 'thinking') return 'thinking…';
      return String(b?.type ?? '?');
    })
    .join(' · ');
}

/** An assistant message as a progress step: its turn number, the tools it calls, the start of its text. */
function turnStep(turn: number, content: unknown, usage: Usage | undefined): ProgressStep {
  const blocks = Array.isArray(content) ? (content as Record<string, unknown>[]) : [];
  const tools = blocks.filter((b) => b?.type === 'tool_use').map((b) => str(b.name) ?? '?');
  const text =
    typeof content === 'string'
      ? content
      : blocks
          .filter((b) => b?.type === 'text')
          .map((b) => str(b.text) ?? '')
          .join(' ');
  const step: ProgressStep = {
    kind: 'turn',
    turn,
    summary: `turn ${turn}${tools.length ? ` · ${tools.join(', ')}` : ''}${text.trim() ? `: ${clip(text.trim(), 200)}` : ''}`,
    ...usage,
  };
  if (tools.length > 0) step.tools = tools;
  return step;
}

class ClaudeSession implements Session {
  private result: ResultEvent | undefined;
  private turns = 0;
  private streamed: Usage = {};
  private sessionId: string | undefined;
  private apiError: string | undefined;
  private readonly stderrTail: string[] = [];
  private malformed = 0;

  constructor(private readonly hooks: SessionHooks) {}

  onStdout(line: string): void {
    const ev = parseJsonLine(line);
    if (!ev) {
      if (line.trim() === '') return;
      this.malformed++;
      this.hooks.log('warn', `[claude] not JSON: ${clip(line, 500)}`);
      return;
    }
    const type = str(ev.type) ?? '?';
    if (type === 'system') {
      this.sessionId = str(ev.session_id) ?? this.sessionId;
      const subtype = str(ev.subtype) ?? '';
      const model = str(ev.model);
      const message = `[system ${subtype}] session ${this.sessionId ?? '?'}${model ? `, model ${model}` : ''}`;
      if (subtype === 'init') {
        const step: ProgressStep = {
          kind: 'init',
          summary: `session ${this.sessionId ?? '?'}${model ? ` · model ${model}` : ''}`,
        };
        if (this.sessionId) step.sessionId = this.sessionId;
        this.hooks.progress(step, message);
      } else this.hooks.log('info', message);
    } else if (type === 'assistant' || type === 'user') {
      const message = (ev.message ?? {}) as Record<string, unknown>;
      if (type === 'assistant') {
        const u = apiUsage.safeParse(message.usage);
        if (u.success) {
          const t = tokens(u.data);
          this.streamed = {
            inputTokens: (this.streamed.inputTokens ?? 0) + (t.inputTokens ?? 0),
            outputTokens: (this.streamed.outputTokens ?? 0) + (t.outputTokens ?? 0),
          };
        }
        // Newer versions mark an assistant message that is an API failure (rate_limit, authentication_failed…).
        if (typeof ev.error === 'string') this.apiError = ev.error;
        this.turns++;
        this.hooks.progress(
          turnStep(this.turns, message.content, u.success ? tokens(u.data) : undefined),
          `[${type}] ${describeContent(message.content)}`,
        );
        return;
      }
      this.hooks.log('info', `[${type}] ${describeContent(message.content)}`);
    } else if (type === 'result') {
      const parsed = resultEvent.safeParse(ev);
      if (!parsed.success) {
        this.malformed++;
        this.hooks.log('warn', `[result] not in the documented shape: ${parsed.error.issues[0]?.message}`);
        return;
      }
      this.result = parsed.data;
      const r = parsed.data;
      const step: ProgressStep = {
        kind: 'result',
        status: r.subtype,
        summary: `${r.is_error ? 'error' : r.subtype} · ${r.num_turns ?? '?'} turns · $${(r.total_cost_usd ?? 0).toFixed(4)}`,
        ...tokens(r.usage),
      };
      if (r.num_turns !== undefined) step.turn = r.num_turns;
      if (r.total_cost_usd !== undefined) step.costUsd = r.total_cost_usd;
      if (r.duration_ms !== undefined) step.durationMs = r.duration_ms;
      this.hooks.progress(
        step,
        `[result ${r.subtype}] ${r.num_turns ?? '?'} turns, $${(r.total_cost_usd ?? 0).toFixed(4)}, ${r.duration_ms ?? '?'} ms${r.result ? `: ${clip(r.result, 500)}` : ''}`,
        r.is_error || r.subtype !== 'success' ? 'warn' : 'info',
      );
    } else {
      this.hooks.log('info', `[${type}] ${clip(line, 500)}`);
    }
  }

  onStderr(line: string): void {
    this.stderrTail.push(line);
    if (this.stderrTail.length > 20) this.stderrTail.shift();
    this.hooks.log('warn', line);
  }

  usage(): Usage | undefined {
    const r = this.result;
    if (r) {
      const u: Usage = tokens(r.usage);
      if (r.total_cost_usd !== undefined) u.costUsd = r.total_cost_usd;
      return u;
    }
    return this.streamed.inputTokens !== undefined ? this.streamed : undefined;
  }

  finish(exit: ProcessExit): Classified {
    const r = this.result;
    const details: Record<string, unknown> = { exitCode: exit.code };
    if (this.sessionId) details.sessionId = this.sessionId;
    if (!r) {
      const tail = this.stderrTail.join('\n');
      if (exit.code === 0)
        return failure('output_invalid', 'claude ended without a result event', {
          ...details,
          malformed: this.malformed,
        });
      const cls = this.apiError ? classifyText(this.apiError.replace(/_/g, ' ')) : classifyText(tail);
      return failure(
        cls,
        `claude exited with ${exit.signal ?? `code ${exit.code}`}${tail ? `: ${clip(tail, 1_000)}` : ''}`,
        details,
      );
    }
    Object.assign(details, { subtype: r.subtype, numTurns: r.num_turns, durationMs: r.duration_ms });
    if (r.subtype === 'success' && !r.is_error) return { ok: true, result: r.result ?? '', details };
    if (r.subtype === 'error_max_turns')
      return failure('max_turns', `claude stopped at its maximum of turns (${r.num_turns ?? '?'})`, details);
    if (r.subtype === 'error_max_budget_usd')
      return failure(
        'budget',
        `claude stopped at its budget ($${(r.total_cost_usd ?? 0).toFixed(4)} spent)`,
        details,
      );
    const text = [r.result, this.apiError?.replace(/_/g, ' '), ...(r.errors ?? []).map(String)]
      .filter(Boolean)
      .join('; ');
    return failure(
      classifyText(text),
      `claude failed (${r.subtype}): ${clip(text || 'no message', 1_000)}`,
      details,
    );
  }
}

export const claudeCode: CodingTool = {
  binary: 'claude',
  testedVersions: { min: '1.0.0', below: '3.0.0' },
  invocation(prompt: string, opts: CodingOptions): Invocation {
    const viaStdin = promptNeedsStdin(prompt);
    const args = ['-p', ...(viaStdin ? [] : [prompt]), '--output-format', 'stream-json', '--verbose'];
    if (opts.model) args.push('--model', opts.model);
    if (opts.maxTurns !== undefined) args.push('--max-turns', String(opts.maxTurns));
    if (opts.budgetUsd !== undefined) args.push('--max-budget-usd', String(opts.budgetUsd));
    if (opts.permissionMode) args.push('--permission-mode', opts.permissionMode);
    if (opts.allowedTools?.length) args.push('--allowedTools', opts.allowedTools.join(','));
    args.push(...opts.extraArgs);
    return { args, stdin: viaStdin ? prompt : '' };
  },
  session: (_opts, hooks) => new ClaudeSession(hooks),
};
