import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { codingOptionProblems, isCodingRunner } from './coding-options.js';
import { formatProblems, HiveError, type Problem } from './errors.js';
import { yamlValue } from './yaml-value.js';

/** Agent names become parts of Redis keys and consumer names, so they are kept to a safe alphabet. */
export const AGENT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const TASK_TYPE = /^[A-Za-z0-9_.:/-]{1,128}$/;

// `git` runs Hive's built-in git task types (`git.merge`) without any CLI agent.
export const RUNNERS = ['command', 'http', 'sdk', 'claude-code', 'codex', 'gemini', 'aider', 'git'] as const;

/** A git branch-name component: no spaces, `..`, `~^:?*[\\`, no leading dot or dash. */
const BRANCH_PART = /^(?!\.|-)(?!.*\.\.)[A-Za-z0-9._/-]{1,64}(?<!\.|\/|\.lock)$/;

const agentSchema = z
  .object({
    capabilities: z
      .array(z.string().regex(TASK_TYPE, 'expected a task type (letters, digits, _ . : / -)'))
      .min(1),
    runner: z.enum(RUNNERS).default('command'),
    command: z.array(z.string().min(1)).min(1, 'expected a non-empty argv list').optional(),
    url: z.url({ message: 'expected an http(s) URL' }).optional(),
    concurrency: z.number().int().min(1).max(1000).default(1),
    instances: z.number().int().min(0).max(64).default(1),
    timeoutMs: z.number().int().min(1).max(86_400_000).default(600_000),
    retries: z.number().int().min(0).max(100).default(2),
    env: z.record(z.string(), z.string()).default({}),
    cwd: z.string().optional(),
    // Coding-agent runner options (issue 7); validated here so a typo fails at start, not at the first task.
    prompt: z.string().optional(),
    model: z.string().optional(),
    maxTurns: z.number().int().min(1).optional(),
    budgetUsd: z.number().positive().optional(),
    permissionMode: z.string().optional(),
    sandbox: z.string().optional(),
    allowedTools: z.array(z.string()).optional(),
    extraArgs: z.array(z.string()).default([]),
    workspace: z.enum(['worktree', 'none']).default('none'),
    repo: z.string().optional(),
    /** Runs of this runner at once on this host, across all its agents and instances (files under HIVE_HOME). */
    maxParallel: z.number().int().min(1).max(1000).optional(),
    /** When a task's worktree folder is removed; its branch always stays (the merge needs it). */
    worktreeCleanup: z.enum(['on-success', 'always', 'never']).default('on-success'),
    /** What worktrees start from (default: the repository's HEAD). */
    baseBranch: z.string().regex(BRANCH_PART, 'expected a git branch name').optional(),
    /** Task branches are `<branchPrefix>/<workflow id>/<task id>`. */
    branchPrefix: z.string().regex(BRANCH_PART, 'expected a git branch name').default('hive'),
  })
  .strict()
  .superRefine((agent, ctx) => {
    if (agent.runner === 'command' && !agent.command) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: 'required when runner is "command"' });
    }
    if (agent.runner === 'http' && !agent.url) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'required when runner is "http"' });
    }
    if (isCodingRunner(agent.runner)) {
      for (const p of codingOptionProblems(agent.runner, agent)) {
        ctx.addIssue({ code: 'custom', path: [p.key], message: p.message });
      }
    }
  });

const engineSchema = z
  .object({
    /** An entry idle this long in another consumer's pending list is taken over. */
    visibilityTimeoutMs: z.number().int().min(500).max(600_000).default(5_000),
    /** How often an instance looks for idle entries to take over. */
    claimIntervalMs: z.number().int().min(100).max(60_000).default(1_000),
    /** Deliveries of one message before it is dead-lettered. */
    maxDeliveries: z.number().int().min(1).max(100).default(5),
    heartbeatMs: z.number().int().min(100).max(60_000).default(2_000),
    /** Retry backoff: base * 2^(attempt-1), capped, with full jitter. */
    retryBaseMs: z.number().int().min(0).max(600_000).default(500),
    retryMaxMs: z.number().int().min(0).max(3_600_000).default(30_000),
    // Entries, each one committed batch of events: a notification channel, PostgreSQL keeps the record.
    eventsMaxLen: z.number().int().min(10).max(1_000_000).default(200),
    /**
     * A queued or running task whose stream entry is gone (Redis lost it: a restart without its data) and
     * that has shown no progress for this long is sent again.
     */
    lostAfterMs: z.number().int().min(1_000).max(3_600_000).default(30_000),
  })
  .strict();

export const configSchema = z
  .object({
    agents: z
      .record(
        z.string().regex(AGENT_NAME, 'agent names use letters, digits, _ and - (at most 64)'),
        agentSchema,
      )
      .default({}),
    commands: z.array(z.string().min(1)).default(['.hive/commands', '.claude/commands']),
    engine: engineSchema.default(engineSchema.parse({})),
  })
  .strict();

export type AgentConfig = z.infer<typeof agentSchema>;
export type EngineConfig = z.infer<typeof engineSchema>;
export interface HiveConfig {
  readonly agents: Readonly<Record<string, Readonly<AgentConfig>>>;
  readonly commands: readonly string[];
  readonly engine: Readonly<EngineConfig>;
  /** Absolute path of the file it was read from (undefined for an in-memory config). */
  readonly file?: string;
  /** Folder relative paths in the file are resolved against. */
  readonly baseDir: string;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Validates an already-parsed object (tests and the SDK build configs in code). */
export function parseConfig(raw: unknown, baseDir = process.cwd(), file?: string): HiveConfig {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({
      path: i.path.join('.') || '(root)',
      message: i.message,
    }));
    throw new HiveError('HIVE_ERR_CONFIG_INVALID', formatProblems('Invalid configuration', problems), {
      details: problems,
    });
  }
  return deepFreeze({ ...parsed.data, baseDir, ...(file ? { file } : {}) });
}

/** Where a zod issue's path points in the YAML source: the deepest node that exists. */
function lineOf(
  doc: ReturnType<typeof parseDocument>,
  counter: LineCounter,
  keys: PropertyKey[],
): number | undefined {
  for (let n = keys.length; n >= 0; n--) {
    const node = doc.getIn(keys.slice(0, n) as (string | number)[], true) as Node | undefined;
    const start = node?.range?.[0];
    if (start !== undefined) return counter.linePos(start).line;
    // A missing key: point at the map that should hold it.
    if (n === 0 && isMap(doc.contents)) return counter.linePos(doc.contents.range?.[0] ?? 0).line;
  }
  return undefined;
}

/** Parses YAML text, reporting YAML syntax errors and schema problems together with file, line and key. */
export function parseConfigText(text: string, file: string): HiveConfig {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
  const name = path.basename(file);
  const problems: Problem[] = doc.errors.map((e) => {
    const line = e.linePos?.[0]?.line;
    return {
      path: `${name}${line ? `:${line}` : ''}`,
      message: e.message.split('\n')[0] ?? e.message,
      ...(line ? { line } : {}),
    };
  });
  if (problems.length === 0) {
    const value = yamlValue(doc);
    if (!value.ok) {
      const problems = [{ path: name, message: value.message }];
      throw new HiveError('HIVE_ERR_CONFIG_INVALID', formatProblems(`Invalid ${file}`, problems), {
        details: problems,
      });
    }
    const parsed = configSchema.safeParse(value.value ?? {});
    if (parsed.success) return deepFreeze({ ...parsed.data, file, baseDir: path.dirname(file) });
    for (const issue of parsed.error.issues) {
      const line = lineOf(doc, counter, issue.path);
      const key = issue.path.join('.') || '(root)';
      problems.push({
        path: `${name}${line ? `:${line}` : ''} ${key}`,
        message: issue.message,
        ...(line ? { line } : {}),
      });
    }
  }
  throw new HiveError('HIVE_ERR_CONFIG_INVALID', formatProblems(`Invalid ${file}`, problems), {
    details: problems,
  });
}

export function loadConfigFile(file: string): HiveConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problems = [
      { path: file, message: code === 'ENOENT' ? 'file not found' : `cannot read (${code})` },
    ];
    throw new HiveError('HIVE_ERR_CONFIG_INVALID', formatProblems('Invalid configuration', problems), {
      details: problems,
      cause: err,
    });
  }
  return parseConfigText(text, file);
}
