import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Row types of the SQL migrations in /migrations. Timestamps come back as Date from both drivers. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json = ColumnType<unknown, string, string>;

export interface WorkflowsTable {
  id: string;
  correlation_id: string;
  name: string | null;
  status: string;
  spec: Json;
  error: ColumnType<unknown, string | null, string | null>;
  trace_id: string | null;
  budget_usd: number | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface TasksTable {
  workflow_id: string;
  id: string;
  position: number;
  correlation_id: string;
  type: string;
  agent: string | null;
  requested_agent: string | null;
  candidates: string[];
  status: string;
  attempt: number;
  max_attempts: number;
  timeout_ms: number;
  depends_on: string[];
  input: Json;
  output: ColumnType<unknown, string | null, string | null>;
  error: ColumnType<unknown, string | null, string | null>;
  usage: ColumnType<unknown, string | null, string | null>;
  compensate: ColumnType<unknown, string | null, string | null>;
  compensation_of: string | null;
  completed_order: number | null;
  instance: string | null;
  msg_id: string | null;
  not_before: Timestamp | null;
  deadline_at: Timestamp | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  queued_at: Timestamp | null;
  dispatched_at: Timestamp | null;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface EventsTable {
  seq: Generated<string>;
  ts: Timestamp;
  type: string;
  correlation_id: string;
  workflow_id: string | null;
  task_id: string | null;
  agent: string | null;
  data: Json;
}

/** One transaction's events (migration 0005): seqs first_seq..last_seq, `events` their JSON array in order. */
export interface EventPagesTable {
  last_seq: string;
  first_seq: string;
  correlation_ids: string[];
  workflow_ids: string[];
  events: string;
}

export interface AgentLogsTable {
  id: Generated<string>;
  ts: Timestamp;
  agent: string;
  instance: string | null;
  workflow_id: string | null;
  task_id: string | null;
  correlation_id: string;
  level: string;
  message: string;
}

export interface AgentsTable {
  name: string;
  capabilities: string[];
  runner: string;
  concurrency: number;
  instances: number;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface AgentInstancesTable {
  id: string;
  agent: string;
  host: string;
  pid: number;
  concurrency: number;
  status: string;
  running: number;
  started_at: Timestamp;
  last_heartbeat: Timestamp;
  stopped_at: Timestamp | null;
}

export interface HttpRequestsTable {
  id: Generated<string>;
  ts: Timestamp;
  correlation_id: string;
  trace_id: string | null;
  method: string;
  route: string;
  url: string;
  status: number;
  duration_ms: number;
}

export interface CommandRunsTable {
  id: string;
  ts: ColumnType<Date, Date | string | undefined, Date | string>;
  correlation_id: string;
  command: string;
  args: string;
  file: string | null;
  workflow_id: string | null;
  status: string;
  error: ColumnType<unknown, string | null, string | null>;
}

export interface DeadLettersTable {
  id: Generated<string>;
  ts: ColumnType<Date, Date | string | undefined, Date | string>;
  stream: string;
  entry_id: string;
  reason: string;
  fields: Json;
  correlation_id: string | null;
  workflow_id: string | null;
  task_id: string | null;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface Database {
  workflows: WorkflowsTable;
  tasks: TasksTable;
  /** A view over event_pages, one row per event: for ad-hoc SQL and tests on small data. */
  events: EventsTable;
  event_pages: EventPagesTable;
  agent_logs: AgentLogsTable;
  agents: AgentsTable;
  agent_instances: AgentInstancesTable;
  http_requests: HttpRequestsTable;
  command_runs: CommandRunsTable;
  dead_letters: DeadLettersTable;
  hive_schema_migrations: SchemaMigrationsTable;
}

export type WorkflowRow = Selectable<WorkflowsTable>;
export type TaskRow = Selectable<TasksTable>;
export type EventRow = Selectable<EventsTable>;
export type EventPageRow = Selectable<EventPagesTable>;
export type AgentLogRow = Selectable<AgentLogsTable>;
export type NewAgentLog = Insertable<AgentLogsTable>;
