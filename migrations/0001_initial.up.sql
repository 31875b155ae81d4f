-- Hive's system of record. Every row that belongs to a piece of work carries its correlation_id,
-- indexed for GET /api/correlations/:cid and the filters of CONTRACT §6.

CREATE TABLE workflows (
  id text PRIMARY KEY,
  correlation_id text NOT NULL,
  name text,
  status text NOT NULL,
  spec jsonb NOT NULL,
  error jsonb,
  trace_id text,
  budget_usd double precision,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflows_correlation_idx ON workflows (correlation_id);
CREATE INDEX workflows_status_idx ON workflows (status, id);
-- The engine's sweeps look only at workflows that have not ended.
CREATE INDEX workflows_active_idx ON workflows (id) WHERE status IN ('pending', 'running', 'compensating');

CREATE TABLE tasks (
  workflow_id text NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  id text NOT NULL,
  position integer NOT NULL,
  correlation_id text NOT NULL,
  type text NOT NULL,
  agent text,
  requested_agent text,
  -- Agents that may take the task when the spec did not name one (routed by least load at each dispatch).
  candidates text[] NOT NULL DEFAULT '{}',
  status text NOT NULL,
  attempt integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  timeout_ms integer NOT NULL,
  depends_on text[] NOT NULL DEFAULT '{}',
  input jsonb NOT NULL DEFAULT '{}',
  output jsonb,
  error jsonb,
  usage jsonb,
  compensate jsonb,
  compensation_of text,
  completed_order integer,
  instance text,
  msg_id text,
  not_before timestamptz,
  deadline_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  queued_at timestamptz,
  dispatched_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (workflow_id, id)
);
CREATE INDEX tasks_correlation_idx ON tasks (correlation_id);
-- Outbox: committed as queued but not yet written to a stream.
CREATE INDEX tasks_undispatched_idx ON tasks (queued_at) WHERE status = 'queued' AND dispatched_at IS NULL;
CREATE INDEX tasks_retry_idx ON tasks (not_before) WHERE status = 'pending' AND not_before IS NOT NULL;
CREATE INDEX tasks_deadline_idx ON tasks (deadline_at) WHERE status = 'running';
CREATE INDEX tasks_active_idx ON tasks (agent, status) WHERE status IN ('queued', 'running');

CREATE TABLE events (
  seq bigserial PRIMARY KEY,
  ts timestamptz NOT NULL DEFAULT clock_timestamp(),
  type text NOT NULL,
  correlation_id text NOT NULL,
  workflow_id text,
  task_id text,
  agent text,
  data jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_correlation_idx ON events (correlation_id, seq);
CREATE INDEX events_workflow_idx ON events (workflow_id, seq);

CREATE TABLE agent_logs (
  id bigserial PRIMARY KEY,
  ts timestamptz NOT NULL,
  agent text NOT NULL,
  instance text,
  workflow_id text,
  task_id text,
  correlation_id text NOT NULL,
  level text NOT NULL,
  message text NOT NULL
);
CREATE INDEX agent_logs_correlation_idx ON agent_logs (correlation_id, id);
CREATE INDEX agent_logs_workflow_idx ON agent_logs (workflow_id, task_id, id);
CREATE INDEX agent_logs_agent_idx ON agent_logs (agent, id);

CREATE TABLE agents (
  name text PRIMARY KEY,
  capabilities text[] NOT NULL,
  runner text NOT NULL,
  concurrency integer NOT NULL,
  instances integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agent_instances (
  id text PRIMARY KEY,
  agent text NOT NULL,
  host text NOT NULL,
  pid integer NOT NULL,
  concurrency integer NOT NULL,
  status text NOT NULL,
  running integer NOT NULL DEFAULT 0,
  started_at timestamptz NOT NULL,
  last_heartbeat timestamptz NOT NULL,
  stopped_at timestamptz
);
CREATE INDEX agent_instances_agent_idx ON agent_instances (agent, status);

CREATE TABLE http_requests (
  id bigserial PRIMARY KEY,
  ts timestamptz NOT NULL,
  correlation_id text NOT NULL,
  trace_id text,
  method text NOT NULL,
  route text NOT NULL,
  url text NOT NULL,
  status integer NOT NULL,
  duration_ms double precision NOT NULL
);
CREATE INDEX http_requests_correlation_idx ON http_requests (correlation_id, id);

CREATE TABLE command_runs (
  id text PRIMARY KEY,
  ts timestamptz NOT NULL DEFAULT now(),
  correlation_id text NOT NULL,
  command text NOT NULL,
  args text NOT NULL,
  file text,
  workflow_id text,
  status text NOT NULL,
  error jsonb
);
CREATE INDEX command_runs_correlation_idx ON command_runs (correlation_id);

CREATE TABLE dead_letters (
  id bigserial PRIMARY KEY,
  ts timestamptz NOT NULL DEFAULT now(),
  stream text NOT NULL,
  entry_id text NOT NULL,
  reason text NOT NULL,
  fields jsonb NOT NULL,
  correlation_id text,
  workflow_id text,
  task_id text
);
CREATE INDEX dead_letters_correlation_idx ON dead_letters (correlation_id);
