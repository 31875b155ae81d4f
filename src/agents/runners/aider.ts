/**
 * aider, headless: `aider --message TEXT FILES --yes-always --no-auto-commits` (plus `--model`, and
 * `--no-pretty` since its output is read as log lines). aider has no machine-readable output: the result of a
 * run is the worktree's diff (the coding runner records it), and usage comes from the line it prints after each
 * reply, "Tokens: 2.3k sent, 150 received. Cost: $0.01 message, $0.02 session." — which is also how Hive
 * enforces `budgetUsd`, since aider has no budget flag.
 */
import path from 'node:path';
import type { Usage } from '../../bus/envelope.js';
import type { ProgressStep } from '../runner.js';
import { addUsage, type Classified, classifyText, clip, failure } from './coding/outcome.js';
import {
  type CodingOptions,
  type CodingTool,
  type Invocation,
  promptNeedsStdin,
  type Session,
  type SessionHooks,
} from './coding/tool.js';
import type { ProcessExit } from './process.js';

const TOKENS =
  /Tokens:\s*([\d.,]+)([kKmM]?)\s+sent(?:,\s*[\d.,]+[kKmM]?\s+cache[^,]*)*,\s*([\d.,]+)([kKmM]?)\s+received\.(?:\s*Cost:\s*\$([\d.]+)\s+message,\s*\$([\d.]+)\s+session\.)?/;
const ERROR_LINE = /error|exception|traceback/i;
/** The stages of a run aider prints: the model it starts with, each edit it applies (the replies are TOKENS). */
const MODEL_LINE = /^(?:Main model|Model):\s*(\S+)/;
const EDIT_LINE = /^Applied edit to (.+)$/;

function count(n: string, unit: string): number {
  const v = Number(n.replace(/,/g, ''));
  return Math.round(unit.toLowerCase() === 'k' ? v * 1e3 : unit.toLowerCase() === 'm' ? v * 1e6 : v);
}

class AiderSession implements Session {
  private total: Usage | undefined;
  private sessionCost: number | undefined;
  private readonly errors: string[] = [];
  private replies = 0;

  constructor(
    private readonly opts: CodingOptions,
    private readonly hooks: SessionHooks,
  ) {}

  private line(line: string, level: 'info' | 'warn'): void {
    if (line.trim() === '') return;
    const m = TOKENS.exec(line);
    if (!m) {
      const step = this.stage(line);
      if (step) this.hooks.progress(step, line, level);
      else this.hooks.log(level, line);
    }
    if (m) {
      const reply = { inputTokens: count(m[1]!, m[2]!), outputTokens: count(m[3]!, m[4]!) };
      this.total = addUsage(this.total, reply);
      this.replies++;
      const replyStep: ProgressStep = {
        kind: 'reply',
        turn: this.replies,
        summary: `reply ${this.replies} · ${reply.inputTokens} sent, ${reply.outputTokens} received${m[6] !== undefined ? ` · $${m[6]} session` : ''}`,
        ...reply,
      };
      if (m[6] !== undefined) replyStep.costUsd = Number(m[6]);
      this.hooks.progress(replyStep, line, level);
      if (m[6] !== undefined) {
        this.sessionCost = Number(m[6]);
        this.total = { ...this.total, costUsd: this.sessionCost };
        if (this.opts.budgetUsd !== undefined && this.sessionCost > this.opts.budgetUsd)
          this.hooks.stop(
            'budget',
            `aider spent $${this.sessionCost}, over budgetUsd $${this.opts.budgetUsd}`,
          );
      }
    } else if (ERROR_LINE.test(line)) {
      this.errors.push(line);
      if (this.errors.length > 20) this.errors.shift();
    }
  }

  /** The stage a line of stdout or stderr marks, if any. */
  private stage(line: string): ProgressStep | undefined {
    const model = MODEL_LINE.exec(line);
    if (model) return { kind: 'init', summary: `model ${model[1]}` };
    const edit = EDIT_LINE.exec(line.trim());
    if (edit) return { kind: 'edit', summary: `edited ${edit[1]}` };
    return undefined;
  }

  onStdout(line: string): void {
    this.line(line, 'info');
  }

  onStderr(line: string): void {
    this.line(line, 'warn');
  }

  usage(): Usage | undefined {
    return this.total;
  }

  finish(exit: ProcessExit): Classified {
    const details: Record<string, unknown> = { exitCode: exit.code };
    const text = this.errors.join('\n');
    if (exit.code !== 0)
      return failure(
        classifyText(text),
        `aider exited with ${exit.signal ?? `code ${exit.code}`}${text ? `: ${clip(text, 1_000)}` : ''}`,
        details,
      );
    // aider reports API failures and exits 0; a run that never got a reply (no Tokens line) and printed a
    // rate-limit or auth error failed.
    if (!this.total && text) {
      const cls = classifyText(text, 'crash');
      if (cls !== 'crash') return failure(cls, `aider: ${clip(text, 1_000)}`, details);
    }
    return { ok: true, result: '', details };
  }
}

export const aider: CodingTool = {
  binary: 'aider',
  testedVersions: { min: '0.80.0', below: '1.0.0' },
  invocation(prompt: string, opts: CodingOptions, tmpDir: string): Invocation {
    const args: string[] = [];
    if (opts.model) args.push('--model', opts.model);
    args.push('--yes-always', '--no-auto-commits', '--no-pretty', ...opts.extraArgs);
    if (promptNeedsStdin(prompt)) {
      const file = path.join(tmpDir, 'message.txt');
      args.push('--message-file', file);
      args.push(...opts.files);
      return { args, stdin: '', files: { [file]: prompt } };
    }
    args.push('--message', prompt, ...opts.files);
    return { args, stdin: '' };
  },
  session: (opts, hooks) => new AiderSession(opts, hooks),
};
