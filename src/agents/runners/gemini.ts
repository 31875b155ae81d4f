/**
 * Gemini CLI, headless: `gemini --output-format json [--model M] [--approval-mode MODE] --prompt=PROMPT`
 * (a long prompt goes on stdin, which headless mode reads). stdout is one JSON object at the end: `response`,
 * `stats` (per-model token counts), `error` when the request failed. Exit codes: 0 success, 1 general or API
 * error, 41 authentication, 42 input, 44 sandbox, 52 configuration, 53 turn limit. The JSON format has no
 * live events; stderr lines are still logged as they come.
 */
import { z } from 'zod';
import type { Usage } from '../../bus/envelope.js';
import { type Classified, classifyText, clip, type FailureClass, failure } from './coding/outcome.js';
import type { CodingOptions, CodingTool, Invocation, Session, SessionHooks } from './coding/tool.js';
import type { ProcessExit } from './process.js';

const output = z
  .object({
    response: z.string().optional(),
    stats: z
      .object({
        models: z
          .record(
            z.string(),
            z
              .object({
                tokens: z
                  .object({
                    prompt: z.number().nonnegative().optional(),
                    candidates: z.number().nonnegative().optional(),
                  })
                  .loose()
                  .optional(),
              })
              .loose(),
          )
          .optional(),
      })
      .loose()
      .optional(),
    error: z
      .object({
        type: z.string().optional(),
        message: z.string(),
        code: z.union([z.number(), z.string()]).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

const EXIT_CLASSES: Record<number, FailureClass> = { 41: 'auth', 53: 'max_turns' };

class GeminiSession implements Session {
  private readonly stdout: string[] = [];
  private readonly stderrTail: string[] = [];
  private parsed: z.infer<typeof output> | undefined;

  constructor(private readonly hooks: SessionHooks) {}

  onStdout(line: string): void {
    this.stdout.push(line);
  }

  onStderr(line: string): void {
    this.stderrTail.push(line);
    if (this.stderrTail.length > 20) this.stderrTail.shift();
    this.hooks.log('warn', line);
  }

  private parse(): z.infer<typeof output> | undefined {
    if (this.parsed) return this.parsed;
    const text = this.stdout.join('\n').trim();
    if (!text) return undefined;
    try {
      const r = output.safeParse(JSON.parse(text));
      if (r.success) this.parsed = r.data;
    } catch {
      /* reported by finish() */
    }
    return this.parsed;
  }

  usage(): Usage | undefined {
    const models = this.parse()?.stats?.models;
    if (!models) return undefined;
    let inputTokens = 0;
    let outputTokens = 0;
    for (const m of Object.values(models)) {
      inputTokens += m.tokens?.prompt ?? 0;
      outputTokens += m.tokens?.candidates ?? 0;
    }
    return { inputTokens, outputTokens };
  }

  finish(exit: ProcessExit): Classified {
    const out = this.parse();
    const details: Record<string, unknown> = { exitCode: exit.code };
    if (out?.response !== undefined) this.hooks.log('info', `[response] ${clip(out.response, 1_000)}`);
    const u = this.usage();
    if (u)
      // The JSON format has one object at the end: its stats are the run's one progress step.
      this.hooks.progress(
        {
          kind: 'stats',
          summary: `${u.inputTokens} prompt tokens · ${u.outputTokens} candidate tokens`,
          ...u,
        },
        `[stats] ${u.inputTokens} prompt tokens, ${u.outputTokens} candidate tokens`,
      );
    if (out?.error) {
      const e = out.error;
      this.hooks.log('error', `[error ${e.type ?? ''}] ${clip(e.message, 1_000)}`);
      const cls =
        EXIT_CLASSES[exit.code ?? -1] ?? classifyText(`${e.type ?? ''} ${e.code ?? ''} ${e.message}`);
      return failure(cls, `gemini failed: ${clip(e.message, 1_000)}`, {
        ...details,
        type: e.type,
        code: e.code,
      });
    }
    if (exit.code !== 0) {
      const tail = this.stderrTail.join('\n');
      const cls = EXIT_CLASSES[exit.code ?? -1] ?? classifyText(tail);
      return failure(
        cls,
        `gemini exited with ${exit.signal ?? `code ${exit.code}`}${tail ? `: ${clip(tail, 1_000)}` : ''}`,
        details,
      );
    }
    if (!out || out.response === undefined) {
      for (const l of this.stdout.slice(0, 50)) this.hooks.log('warn', `[gemini] ${clip(l, 500)}`);
      return failure('output_invalid', 'gemini printed no JSON object with a response', details);
    }
    return { ok: true, result: out.response, details };
  }
}

export const gemini: CodingTool = {
  binary: 'gemini',
  testedVersions: { min: '0.10.0', below: '1.0.0' },
  invocation(prompt: string, opts: CodingOptions): Invocation {
    const args = ['--output-format', 'json'];
    if (opts.model) args.push('--model', opts.model);
    if (opts.permissionMode) args.push('--approval-mode', opts.permissionMode);
    args.push(...opts.extraArgs);
    if (prompt.length > 100_000) return { args, stdin: prompt };
    // `--prompt=…` keeps a prompt that starts with `-` a value.
    args.push(`--prompt=${prompt}`);
    return { args, stdin: '' };
  },
  session: (_opts, hooks) => new GeminiSession(hooks),
};
