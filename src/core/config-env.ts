import path from 'node:path';
import { z } from 'zod';
import { formatProblems, HiveError, type Problem } from './errors.js';

/**
 * The environment of CONTRACT §2, validated once at start. Every problem is reported together and the parsed
 * result is frozen, so no module reads `process.env` for Hive's settings after boot.
 */
const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

const port = z.coerce
  .number({ message: 'expected a port number' })
  .int('expected an integer port')
  .min(0, 'expected a port from 0 to 65535')
  .max(65535, 'expected a port from 0 to 65535');

export const envSchema = z.object({
  HIVE_DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  HIVE_REDIS_URL: url(['redis:', 'rediss:']).optional(),
  HIVE_HOME: z.string().min(1, 'expected a folder path').default('./.hive'),
  HIVE_CONFIG: z.string().min(1, 'expected a file path').default('./hive.yaml'),
  HIVE_HOST: z.string().min(1, 'expected a host name or address').default('127.0.0.1'),
  HIVE_PORT: port.default(4483),
  HIVE_URL: url(['http:', 'https:']).default('http://127.0.0.1:4483'),
  HIVE_API_TOKEN: z.string().min(8, 'expected a token of at least 8 characters').optional(),
  HIVE_READ_TOKEN: z.string().min(8, 'expected a token of at least 8 characters').optional(),
  HIVE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HIVE_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected letters, digits, _ . - (at most 64)')
    .default('hive'),
  HIVE_CORS_ORIGIN: z.string().optional(),
  /** Unsent bytes an SSE or WebSocket client may fall behind by before it is dropped as too slow. */
  HIVE_SSE_BUFFER_BYTES: z.coerce
    .number({ message: 'expected a number of bytes' })
    .int()
    .min(1_024)
    .max(1_073_741_824)
    .default(1_048_576),
  /**
   * How long a process waits at start for its PostgreSQL server (one starting at the same time, or restarting)
   * before giving up; 0 tries once.
   */
  HIVE_DB_WAIT_MS: z.coerce
    .number({ message: 'expected a number of milliseconds' })
    .int('expected a whole number of milliseconds')
    .min(0, 'expected 0 or more milliseconds')
    .max(86_400_000, 'expected at most a day (86400000 ms)')
    .default(30_000),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']).optional(),
});

export type HiveEnv = Readonly<z.infer<typeof envSchema>>;

function problemsOf(error: z.ZodError): Problem[] {
  return error.issues.map((issue) => ({
    path: String(issue.path[0] ?? '(environment)'),
    message: issue.message,
  }));
}

/** Empty strings count as unset: `HIVE_API_TOKEN= hive up` must not mean "token is the empty string". */
function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

export function loadEnv(env: NodeJS.ProcessEnv = process.env): HiveEnv {
  const parsed = envSchema.safeParse(definedOnly(env));
  if (!parsed.success) {
    const problems = problemsOf(parsed.error);
    throw new HiveError('HIVE_ERR_ENV_INVALID', formatProblems('Invalid environment', problems), {
      details: problems,
    });
  }
  const value = parsed.data;
  return Object.freeze({
    ...value,
    HIVE_HOME: path.resolve(value.HIVE_HOME),
    HIVE_CONFIG: path.resolve(value.HIVE_CONFIG),
  });
}
