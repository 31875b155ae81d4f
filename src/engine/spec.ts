import { parseDocument } from 'yaml';
import { z } from 'zod';
import type { HiveConfig } from '../core/config-file.js';
import { formatProblems, HiveError, type Problem } from '../core/errors.js';
import { yamlValue } from '../core/yaml-value.js';

/**
 * The workflow spec of CONTRACT §5 and every rule it is checked against. Validation collects all problems
 * (schema, agents, dependencies, cycles) before answering, so a user fixes a spec in one round trip.
 */
export const MAX_TASKS = 1_000;
export const MAX_SPEC_BYTES = 1024 * 1024;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

const compensateSchema = z
  .object({
    type: z.string().min(1).max(128),
    agent: z.string().min(1).max(64).optional(),
    input: z.unknown().optional(),
  })
  .strict();

const taskSchema = z
  .object({
    id: z
      .string()
      .regex(ID, 'expected letters, digits, _ . : - (at most 128), starting with a letter or digit')
      .optional(),
    type: z.string().min(1).max(128),
    agent: z.string().min(1).max(64).optional(),
    input: z.unknown().optional(),
    dependsOn: z.array(z.string().min(1).max(128)).max(MAX_TASKS).optional(),
    timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
    retries: z.number().int().min(0).max(100).optional(),
    compensate: compensateSchema.optional(),
  })
  .strict();

export const specSchema = z
  .object({
    id: z
      .string()
      .regex(ID, 'expected letters, digits, _ . : - (at most 128), starting with a letter or digit')
      .optional(),
    name: z.string().max(256).optional(),
    agents: z.array(z.string().min(1).max(64)).max(1_000).optional(),
    budgetUsd: z.number().positive().optional(),
    tasks: z
      .array(taskSchema)
      .min(1, 'a workflow needs at least one task')
      .max(MAX_TASKS, `at most ${MAX_TASKS} tasks`),
  })
  .strict();

export type WorkflowSpec = z.infer<typeof specSchema>;

export interface PlannedTask {
  id: string;
  position: number;
  type: string;
  /** The agent the spec named; undefined → routed by capability at dispatch. */
  agent?: string;
  /** Agents that may take it (the named one, or every capable one). */
  candidates: string[];
  input: unknown;
  dependsOn: string[];
  timeoutMs: number;
  maxAttempts: number;
  compensate?: { type: string; agent?: string; input?: unknown };
}

export interface WorkflowPlan {
  id?: string;
  name?: string;
  budgetUsd?: number;
  /** No task declared dependsOn: tasks run in listed order. */
  sequential: boolean;
  tasks: PlannedTask[];
  spec: WorkflowSpec;
}

export function capableAgents(config: HiveConfig, type: string, allowed?: readonly string[]): string[] {
  return Object.entries(config.agents)
    .filter(([name, a]) => a.capabilities.includes(type) && (!allowed || allowed.includes(name)))
    .map(([name]) => name)
    .sort();
}

function fail(problems: Problem[]): never {
  throw new HiveError('HIVE_ERR_SPEC_INVALID', formatProblems('Invalid workflow spec', problems), {
    details: problems,
  });
}

/** Finds dependency cycles (each reported once, as a path). */
function findCycles(tasks: { id: string; dependsOn: string[] }[]): string[][] {
  const deps = new Map(tasks.map((t) => [t.id, t.dependsOn]));
  const state = new Map<string, 1 | 2>();
  const cycles: string[][] = [];
  const stack: string[] = [];
  const visit = (id: string) => {
    state.set(id, 1);
    stack.push(id);
    for (const d of deps.get(id) ?? []) {
      if (!deps.has(d)) continue;
      const s = state.get(d);
      if (s === 1) cycles.push([...stack.slice(stack.indexOf(d)), d]);
      else if (s === undefined) visit(d);
    }
    stack.pop();
    state.set(id, 2);
  };
  for (const t of tasks) if (!state.has(t.id)) visit(t.id);
  return cycles;
}

/** Validates a parsed spec against the schema and the configured agents. Throws HIVE_ERR_SPEC_INVALID. */
export function planWorkflow(raw: unknown, config: HiveConfig, where = ''): WorkflowPlan {
  const parsed = specSchema.safeParse(raw);
  if (!parsed.success) {
    fail(
      parsed.error.issues.map((i) => ({ path: where + (i.path.join('.') || '(spec)'), message: i.message })),
    );
  }
  const spec = parsed.data;
  const problems: Problem[] = [];
  const at = (p: string) => where + p;
  for (const [i, name] of (spec.agents ?? []).entries()) {
    if (!config.agents[name]) problems.push({ path: at(`agents.${i}`), message: `unknown agent "${name}"` });
  }
  const ids = spec.tasks.map((t, i) => t.id ?? String(i));
  const seen = new Map<string, number>();
  ids.forEach((id, i) => {
    const first = seen.get(id);
    if (first !== undefined)
      problems.push({
        path: at(`tasks.${i}.id`),
        message: `duplicate task id "${id}" (also tasks.${first})`,
      });
    else seen.set(id, i);
  });
  const sequential = spec.tasks.every((t) => t.dependsOn === undefined);
  const tasks: PlannedTask[] = spec.tasks.map((t, i) => {
    const candidates = t.agent ? [t.agent] : capableAgents(config, t.type, spec.agents);
    if (t.agent) {
      const agent = config.agents[t.agent];
      if (!agent) problems.push({ path: at(`tasks.${i}.agent`), message: `unknown agent "${t.agent}"` });
      else if (spec.agents && !spec.agents.includes(t.agent)) {
        problems.push({
          path: at(`tasks.${i}.agent`),
          message: `agent "${t.agent}" is not in the workflow's agents list`,
        });
      }
    } else if (candidates.length === 0) {
      problems.push({ path: at(`tasks.${i}.type`), message: `no capable agent for task type "${t.type}"` });
    }
    if (t.compensate?.agent && !config.agents[t.compensate.agent]) {
      problems.push({
        path: at(`tasks.${i}.compensate.agent`),
        message: `unknown agent "${t.compensate.agent}"`,
      });
    } else if (t.compensate && !t.compensate.agent && capableAgents(config, t.compensate.type).length === 0) {
      problems.push({
        path: at(`tasks.${i}.compensate.type`),
        message: `no capable agent for task type "${t.compensate.type}"`,
      });
    }
    const dependsOn = sequential ? (i > 0 ? [ids[i - 1]!] : []) : [...new Set(t.dependsOn ?? [])];
    for (const [j, d] of (t.dependsOn ?? []).entries()) {
      if (!seen.has(d))
        problems.push({ path: at(`tasks.${i}.dependsOn.${j}`), message: `unknown dependency "${d}"` });
      else if (d === ids[i])
        problems.push({ path: at(`tasks.${i}.dependsOn.${j}`), message: 'a task cannot depend on itself' });
    }
    const defaults = config.agents[candidates[0] ?? ''];
    const planned: PlannedTask = {
      id: ids[i]!,
      position: i,
      type: t.type,
      candidates,
      input: t.input ?? {},
      dependsOn,
      timeoutMs: t.timeoutMs ?? defaults?.timeoutMs ?? 600_000,
      maxAttempts: 1 + (t.retries ?? defaults?.retries ?? 2),
    };
    if (t.agent) planned.agent = t.agent;
    if (t.compensate) planned.compensate = t.compensate;
    return planned;
  });
  if (!sequential) {
    for (const cycle of findCycles(tasks)) {
      problems.push({ path: at('tasks'), message: `dependency cycle: ${cycle.join(' → ')}` });
    }
  }
  if (problems.length > 0) fail(problems);
  const plan: WorkflowPlan = { sequential, tasks, spec };
  if (spec.id) plan.id = spec.id;
  if (spec.name) plan.name = spec.name;
  if (spec.budgetUsd) plan.budgetUsd = spec.budgetUsd;
  return plan;
}

/** Parses spec text (JSON or YAML), enforcing the size limit first. */
export function parseSpecText(text: string, file = 'spec'): unknown {
  if (Buffer.byteLength(text, 'utf8') > MAX_SPEC_BYTES) {
    throw new HiveError('HIVE_ERR_SPEC_TOO_LARGE', `${file}: the spec is over 1 MiB`);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    fail(
      doc.errors.map((e) => ({
        path: `${file}:${e.linePos?.[0]?.line ?? '?'}`,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  }
  const value = yamlValue(doc);
  if (!value.ok) fail([{ path: file, message: value.message }]);
  return value.value;
}
