/**
 * What one coding CLI contributes to the shared coding runner: the argv of its documented headless mode, and
 * a parser that turns its output, line by line as it arrives, into agent log lines, usage and a final
 * classification. Process handling, workspaces, slots and outcomes are shared (coding-runner.ts).
 */
import type { Usage } from '../../../bus/envelope.js';
import type { LogLevel, ProgressStep } from '../../runner.js';
import type { ProcessExit } from '../process.js';
import type { Classified, FailureClass } from './outcome.js';

export interface CodingOptions {
  model?: string | undefined;
  maxTurns?: number | undefined;
  budgetUsd?: number | undefined;
  permissionMode?: string | undefined;
  sandbox?: string | undefined;
  allowedTools?: readonly string[] | undefined;
  extraArgs: readonly string[];
  /** Files named in the task input (aider edits only the files it is given). */
  files: readonly string[];
}

export interface Invocation {
  /** Arguments after the executable. */
  args: string[];
  stdin: string;
  /** Files the invocation refers to (written before the run, in a private temp folder). */
  files?: Record<string, string>;
}

export interface SessionHooks {
  log(level: LogLevel, message: string): void;
  /** A step of the run (init, a turn, the result…): its log line (`message`, else the summary) and a task.progress event. */
  progress(step: ProgressStep, message?: string, level?: LogLevel): void;
  /** Ends the run early: Hive enforces a limit the CLI has no flag for. */
  stop(cls: FailureClass, message: string): void;
}

export interface Session {
  onStdout(line: string): void;
  onStderr(line: string): void;
  /** Usage seen so far (also reported for failed runs: a failed run costs money too). */
  usage(): Usage | undefined;
  finish(exit: ProcessExit): Classified | Promise<Classified>;
}

export interface CodingTool {
  /** The executable looked up on PATH when the agent has no `command`. */
  readonly binary: string;
  /** `--version` output is matched against this range by `hive doctor`. */
  readonly testedVersions: { min: string; below: string };
  /** Prompts longer than this (or starting with `-`) do not go into argv. */
  invocation(prompt: string, opts: CodingOptions, tmpDir: string): Invocation;
  session(opts: CodingOptions, hooks: SessionHooks, tmpDir: string): Session;
}

/** argv holds at most 128 KiB per argument on Linux (MAX_ARG_STRLEN); a prompt past this goes elsewhere. */
export const ARGV_PROMPT_MAX = 100_000;

/** A prompt that cannot be a positional argument (too long, or it would read as an option). */
export function promptNeedsStdin(prompt: string): boolean {
  return prompt.length > ARGV_PROMPT_MAX || prompt.startsWith('-');
}

/** JSON.parse that returns undefined for a line that is not a JSON object. */
export function parseJsonLine(line: string): Record<string, unknown> | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
