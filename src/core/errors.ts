/**
 * Every error Hive reports to a user has a stable code (`HIVE_ERR_…`), an HTTP status and an optional cause.
 * Codes are part of the public surface: clients branch on them, so a code is never renamed.
 */
export interface ErrorDefinition {
  readonly status: number;
  readonly message: string;
}

export const ERROR_CODES = {
  HIVE_ERR_INTERNAL: { status: 500, message: 'Internal error' },
  HIVE_ERR_ENV_INVALID: { status: 500, message: 'Invalid environment' },
  HIVE_ERR_CONFIG_INVALID: { status: 500, message: 'Invalid configuration file' },
  HIVE_ERR_VALIDATION: { status: 400, message: 'Invalid request' },
  HIVE_ERR_SPEC_INVALID: { status: 400, message: 'Invalid workflow spec' },
  HIVE_ERR_SPEC_TOO_LARGE: { status: 400, message: 'Workflow spec over 1 MiB' },
  HIVE_ERR_CORRELATION_ID_INVALID: { status: 400, message: 'Invalid X-Correlation-ID header' },
  HIVE_ERR_CURSOR_INVALID: { status: 400, message: 'Invalid cursor' },
  HIVE_ERR_BODY_INVALID: { status: 400, message: 'Invalid request body' },
  HIVE_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'Request body too large' },
  HIVE_ERR_UNAUTHORIZED: { status: 401, message: 'Authentication required' },
  HIVE_ERR_FORBIDDEN: { status: 403, message: 'Not allowed' },
  HIVE_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests' },
  HIVE_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  HIVE_ERR_ROUTE_NOT_FOUND: { status: 404, message: 'No such route' },
  HIVE_ERR_WORKFLOW_NOT_FOUND: { status: 404, message: 'Workflow not found' },
  HIVE_ERR_WORKFLOW_CONFLICT: { status: 409, message: 'Workflow conflict' },
  HIVE_ERR_WORKFLOW_FINISHED: { status: 409, message: 'Workflow already finished' },
  HIVE_ERR_COMMAND_NOT_FOUND: { status: 404, message: 'Unknown command' },
  HIVE_ERR_COMMAND_INVALID: { status: 400, message: 'Invalid command file' },
  HIVE_ERR_COMMAND_ARGS: { status: 400, message: 'Invalid command arguments' },
  HIVE_ERR_NOT_READY: { status: 503, message: 'Not ready' },
  HIVE_ERR_REDIS_UNAVAILABLE: { status: 503, message: 'Redis unavailable' },
  HIVE_ERR_DB_UNAVAILABLE: { status: 503, message: 'Database unavailable' },
  HIVE_ERR_MIGRATION: { status: 500, message: 'Migration failed' },
  HIVE_ERR_MESSAGE_INVALID: { status: 400, message: 'Invalid stream message' },
  HIVE_ERR_TASK_FAILED: { status: 500, message: 'Task failed' },
  HIVE_ERR_TASK_TIMEOUT: { status: 504, message: 'Task timed out' },
  HIVE_ERR_TASK_CANCELLED: { status: 409, message: 'Task cancelled' },
  HIVE_ERR_TASK_EXIT: { status: 500, message: 'Task process exited with an error' },
  HIVE_ERR_TASK_SIGNAL: { status: 500, message: 'Task process killed by a signal' },
  HIVE_ERR_TASK_SPAWN: { status: 500, message: 'Task process could not start' },
  HIVE_ERR_TASK_OUTPUT_INVALID: { status: 500, message: 'Task output invalid' },
  HIVE_ERR_TASK_HTTP: { status: 502, message: 'Agent HTTP endpoint failed' },
  HIVE_ERR_DEAD_LETTERED: { status: 500, message: 'Message dead-lettered' },
  HIVE_ERR_DEPENDENCY_FAILED: { status: 500, message: 'A dependency failed' },
  HIVE_ERR_RUNNER_MAX_TURNS: { status: 500, message: 'Agent reached its maximum turns' },
  HIVE_ERR_RUNNER_BUDGET: { status: 500, message: 'Agent exceeded its budget' },
  HIVE_ERR_RUNNER_RATE_LIMITED: { status: 429, message: 'Agent was rate limited' },
  HIVE_ERR_RUNNER_AUTH: { status: 401, message: 'Agent authentication failed' },
  HIVE_ERR_RUNNER_CRASH: { status: 500, message: 'Agent crashed' },
  HIVE_ERR_RUNNER_INPUT_INVALID: { status: 400, message: 'Task input does not fit the runner' },
  HIVE_ERR_RUNNER_OUTPUT_INVALID: { status: 502, message: 'Agent CLI output not in its documented format' },
  HIVE_ERR_WORKSPACE: { status: 500, message: 'Git worktree operation failed' },
  HIVE_ERR_MERGE_CONFLICT: { status: 409, message: 'Branches conflict' },
  HIVE_ERR_REDIS_MISSING: { status: 500, message: 'No Redis server available' },
  HIVE_ERR_SERVER_UNREACHABLE: { status: 503, message: 'The Hive server is not reachable' },
  HIVE_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'Request headers too large' },
  HIVE_ERR_REQUEST_TIMEOUT: { status: 408, message: 'Request not received in time' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HiveError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message ?? ERROR_CODES[code].message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'HiveError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isHiveError(err: unknown): err is HiveError {
  return err instanceof HiveError;
}

/** One problem of a validation, named by where it is (`HIVE_PORT`, `hive.yaml:12 agents.x.concurrency`, `tasks[2].agent`). */
export interface Problem {
  path: string;
  message: string;
  line?: number;
}

export function formatProblems(title: string, problems: readonly Problem[]): string {
  return [`${title} (${problems.length} problem${problems.length === 1 ? '' : 's'}):`]
    .concat(problems.map((p) => `  - ${p.path}: ${p.message}`))
    .join('\n');
}

/** A plain serialisable view of any thrown value, for task errors and logs. */
export function errorToJSON(err: unknown): { code: string; message: string; details?: unknown } {
  if (isHiveError(err)) return err.toJSON();
  if (err instanceof Error) return { code: 'HIVE_ERR_INTERNAL', message: err.message };
  return { code: 'HIVE_ERR_INTERNAL', message: String(err) };
}
