/** Response shapes of the API (CONTRACT §6), as far as the dashboard reads them. */
import type { HiveEvent } from './live';

export interface ErrorInfo {
  code?: string;
  message?: string;
}

export interface Instance {
  id: string;
  host?: string | null;
  pid?: number | null;
  concurrency?: number | null;
  startedAt?: string | null;
  lastHeartbeat?: string | null;
  status: string;
  running?: number;
}

export interface Agent {
  name: string;
  runner?: string;
  capabilities: string[];
  concurrency?: number;
  queueDepth?: number;
  pending?: number;
  instances: Instance[];
}

export interface AgentsView {
  agents: Agent[];
}

export interface WorkflowSummary {
  id: string;
  correlationId: string;
  name: string | null;
  status: string;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: ErrorInfo | null;
  progress?: { done: number; total: number };
}

export interface WorkflowList {
  items: WorkflowSummary[];
  nextCursor?: string | null;
}

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
}

export interface Task {
  id: string;
  type: string;
  agent: string | null;
  status: string;
  attempt: number;
  dependsOn?: string[];
  queuedAt?: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  output?: unknown;
  error: ErrorInfo | null;
  usage?: Usage;
  workflowId?: string;
}

export interface WorkflowDetail extends WorkflowSummary {
  tasks: Task[];
  usage?: Usage;
  /** Per agent (coding runners report tokens and USD). */
  usageByAgent?: Record<string, Usage>;
  budgetUsd?: number | null;
}

export interface LogLine {
  id?: number;
  ts: string;
  agent: string;
  instance?: string | null;
  taskId?: string | null;
  workflowId?: string | null;
  correlationId?: string | null;
  level: string;
  message: string;
}

export interface RequestRecord {
  ts: string;
  method: string;
  route: string;
  url?: string;
  status: number;
  durationMs: number;
  traceId?: string | null;
}

export interface CommandRun {
  id: string;
  ts: string;
  command: string;
  args: string;
  workflowId: string | null;
  status: string;
  error: ErrorInfo | null;
}

export interface CorrelationView {
  correlationId: string;
  commands?: CommandRun[];
  requests: RequestRecord[];
  workflows: WorkflowSummary[];
  tasks: Task[];
  events: HiveEvent[];
  logs: LogLine[];
}

export interface CommandInfo {
  name: string;
  description: string | null;
  argumentHint: string | null;
  kind?: string;
  agent?: string | null;
}

export interface CommandList {
  commands: CommandInfo[];
  errors: { path: string; message: string; line?: number }[];
}

export interface DeadLetter {
  id: number | string;
  ts: string;
  stream: string;
  entryId: string;
  reason: string;
  fields: unknown;
  correlationId: string | null;
  workflowId?: string | null;
  taskId?: string | null;
}

/** GET /api/usage: tokens and USD summed per agent and in total. */
export interface UsageSummary {
  total: { tasks: number; inputTokens: number; outputTokens: number; costUsd: number };
  agents: { agent: string; tasks: number; inputTokens: number; outputTokens: number; costUsd: number }[];
}
