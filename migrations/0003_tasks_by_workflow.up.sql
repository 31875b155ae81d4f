-- Tasks are reached through their workflow (a task's correlation ID is its workflow's): the index on
-- tasks.correlation_id was one more entry to write on every task insert and every non-HOT task update.
DROP INDEX IF EXISTS tasks_correlation_idx;
