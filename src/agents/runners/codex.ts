/**
 * Codex, headless: `codex exec --json [--model M] [--sandbox MODE] -o FILE PROMPT` (`-` reads the prompt from
 * stdin). stdout is JSONL: `thread.started`, `turn.started`, `item.started|updated|completed` (agent
 * messages, commands, file changes…), `turn.completed` with `usage`, `turn.failed` and `error`. The final
 * message is also written to the `-o` file. Codex has no turn-limit flag, so `maxTurns` is enforced here by
 * counting `turn.started` events; it reports tokens but no cost.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Usage } from '../../bus/envelope.js';
import type { ProgressStep } from '../runner.js';
import { addUsage, type Classified, classifyText, clip, failure } from './coding/outcome.js';
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

const LAST_MESSAGE = 'last-message.txt';

const turnUsage = z
  .object({
    input_tokens: z.number().nonnegative(),
    cached_input_tokens: z.number().nonnegative().optional(),
    output_tokens: z.number().nonnegative(),
  })
  .loose();

const item = z
  .object({
    id: z.string().optional(),
    type: z.string(),
    text: z.string().optional(),
    command: z.string().optional(),
    exit_code: z.number().nullable().optional(),
    status: z.string().optional(),
    changes: z.array(z.object({ path: z.string(), kind: z.string().optional() }).loose()).optional(),
    message: z.string().optional(),
  })
  .loose();

function describeItem(i: z.infer<typeof item>): string {
  switch (i.type) {
    case 'agent_message':
    case 'reasoning':
      return clip(i.text ?? '', 500);
    case 'command_execution':
      return `$ ${clip(i.command ?? '', 300)}${i.exit_code !== undefined && i.exit_code !== null ? ` → ${i.exit_code}` : ''}`;
    case 'file_change':
      return (i.changes ?? []).map((c) => `${c.kind ?? 'change'} ${c.path}`).join(', ');
    case 'error':
      return clip(i.message ?? '', 500);
    default:
      return i.status ?? '';
  }
}

class CodexSession implements Session {
  private turns = 0;
  private completedTurns = 0;
  private total: Usage | undefined;
  private threadId: string | undefined;
  private lastMessage: string | undefined;
  private failedWith: string | undefined;
  private lastError: string | undefined;
  private malformed = 0;
  private readonly stderrTail: string[] = [];

  constructor(
    private readonly opts: CodingOptions,
    private readonly hooks: SessionHooks,
    private readonly tmpDir: string,
  ) {}

  onStdout(line: string): void {
    const ev = parseJsonLine(line);
    if (!ev) {
      if (line.trim() === '') return;
      this.malformed++;
      this.hooks.log('warn', `[codex] not JSON: ${clip(line, 500)}`);
      return;
    }
    const type = str(ev.type) ?? '?';
    if (type === 'thread.started') {
      this.threadId = str(ev.thread_id);
      const step: ProgressStep = { kind: 'thread.started', summary: `thread ${this.threadId ?? '?'}` };
      if (this.threadId) step.sessionId = this.threadId;
      this.hooks.progress(step, `[thread.started] ${this.threadId ?? '?'}`);
    } else if (type === 'turn.started') {
      this.turns++;
      this.hooks.progress(
        { kind: 'turn.started', turn: this.turns, summary: `turn ${this.turns}` },
        `[turn.started] turn ${this.turns}`,
      );
      if (this.opts.maxTurns !== undefined && this.turns > this.opts.maxTurns)
        this.hooks.stop('max_turns', `codex started turn ${this.turns}, over maxTurns ${this.opts.maxTurns}`);
    } else if (type === 'turn.completed') {
      this.completedTurns++;
      const u = turnUsage.safeParse(ev.usage);
      // cached_input_tokens are part of input_tokens (OpenAI usage semantics): not added again.
      if (u.success)
        this.total = addUsage(this.total, {
          inputTokens: u.data.input_tokens,
          outputTokens: u.data.output_tokens,
        });
      const step: ProgressStep = {
        kind: 'turn.completed',
        turn: this.turns,
        summary: `turn ${this.turns} completed${u.success ? ` · ${u.data.input_tokens} in, ${u.data.output_tokens} out` : ''}`,
      };
      if (u.success) {
        step.inputTokens = u.data.input_tokens;
        step.outputTokens = u.data.output_tokens;
      }
      this.hooks.progress(
        step,
        `[turn.completed]${u.success ? ` ${u.data.input_tokens} in, ${u.data.output_tokens} out` : ''}`,
      );
    } else if (type === 'turn.failed') {
      const err = (ev.error ?? {}) as Record<string, unknown>;
      this.failedWith = str(err.message) ?? 'turn failed';
      this.hooks.progress(
        { kind: 'turn.failed', turn: this.turns, summary: clip(this.failedWith, 200) },
        `[turn.failed] ${clip(this.failedWith, 1_000)}`,
        'error',
      );
    } else if (type === 'error') {
      this.lastError = str(ev.message) ?? 'error';
      this.hooks.log('warn', `[error] ${clip(this.lastError, 1_000)}`);
    } else if (type.startsWith('item.')) {
      const parsed = item.safeParse(ev.item);
      if (!parsed.success) {
        this.malformed++;
        this.hooks.log('warn', `[${type}] not in the documented shape`);
        return;
      }
      if (type === 'item.completed' && parsed.data.type === 'agent_message')
        this.lastMessage = parsed.data.text;
      const message = `[${type} ${parsed.data.type}] ${describeItem(parsed.data)}`;
      if (type === 'item.completed')
        this.hooks.progress(
          {
            kind: 'item.completed',
            item: parsed.data.type,
            turn: this.turns,
            summary: `${parsed.data.type}: ${clip(describeItem(parsed.data), 200)}`,
          },
          message,
        );
      else this.hooks.log('info', message);
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
    return this.total;
  }

  async finish(exit: ProcessExit): Promise<Classified> {
    const details: Record<string, unknown> = { exitCode: exit.code, turns: this.turns };
    if (this.threadId) details.threadId = this.threadId;
    if (this.failedWith)
      return failure(
        classifyText(this.failedWith),
        `codex turn failed: ${clip(this.failedWith, 1_000)}`,
        details,
      );
    if (exit.code !== 0) {
      const text = this.lastError ?? this.stderrTail.join('\n');
      return failure(
        classifyText(text),
        `codex exited with ${exit.signal ?? `code ${exit.code}`}${text ? `: ${clip(text, 1_000)}` : ''}`,
        details,
      );
    }
    if (this.completedTurns === 0)
      return failure('output_invalid', 'codex ended without a turn.completed event', {
        ...details,
        malformed: this.malformed,
      });
    const fromFile = await readFile(path.join(this.tmpDir, LAST_MESSAGE), 'utf8').catch(() => undefined);
    return { ok: true, result: fromFile ?? this.lastMessage ?? '', details };
  }
}

export const codex: CodingTool = {
  binary: 'codex',
  testedVersions: { min: '0.40.0', below: '1.0.0' },
  invocation(prompt: string, opts: CodingOptions, tmpDir: string): Invocation {
    const args = ['exec', '--json'];
    if (opts.model) args.push('--model', opts.model);
    if (opts.sandbox) args.push('--sandbox', opts.sandbox);
    args.push('-o', path.join(tmpDir, LAST_MESSAGE), ...opts.extraArgs);
    const viaStdin = promptNeedsStdin(prompt);
    args.push(viaStdin ? '-' : prompt);
    return { args, stdin: viaStdin ? prompt : '' };
  },
  session: (opts, hooks, tmpDir) => new CodexSession(opts, hooks, tmpDir),
};
