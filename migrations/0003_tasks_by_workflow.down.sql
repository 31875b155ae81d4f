CREATE INDEX IF NOT EXISTS tasks_correlation_idx ON tasks (correlation_id);
