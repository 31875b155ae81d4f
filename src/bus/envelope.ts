import { z } from 'zod';
import { HiveError } from '../core/errors.js';

/**
 * The versioned message envelope of every stream entry. Entries are flat field lists (Redis stream fields);
 * `payload` is JSON. Validated where written (a bug fails loudly at the writer) and where read (a malformed
 * entry is dead-lettered, never crashes a consumer).
 */
export const ENVELOPE_VERSION = '1';

const idText = z.string().min(1).max(256);
const cid = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'invalid correlation ID');

const errorBody = z.object({
  code: z.string().min(1).max(128),
  message: z.string().max(65_536),
  details: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof errorBody>;

const usage = z
  .object({
    inputTokens: z.number().nonnegative().optional(),
    outputTokens: z.number().nonnegative().optional(),
    costUsd: z.number().nonnegative().optional(),
  })
  .strict();
export type Usage = z.infer<typeof usage>;

const instanceInfo = z.object({ instance: idText, agent: idText });

/** A time in ms since the epoch that a Date can hold (±8.64e15): a larger one would throw where it is formatted. */
export const MAX_EPOCH_MS = 8_640_000_000_000_000;
const epochMs = z.number().int().min(0).max(MAX_EPOCH_MS);

const PROGRESS_TEXT_MAX = 500;
const PROGRESS_NAME_MAX = 128;
const PROGRESS_TOOLS_MAX = 20;
const count = z.number().nonnegative();

/**
 * A step of a coding CLI's run, attached to the log line that describes it; the coordinator records it as a
 * `task.progress` event. Small fields only: the event is on the live stream and in the events table.
 */
const progressStep = z
  .object({
    /** What happened: `init`, `turn`, `result`, `turn.started`, `item.completed`, `stats`, `edit`, … */
    kind: z.string().min(1).max(64),
    /** One short readable line. */
    summary: z.string().max(PROGRESS_TEXT_MAX),
    turn: z.number().int().nonnegative().optional(),
    tools: z.array(z.string().max(PROGRESS_NAME_MAX)).max(PROGRESS_TOOLS_MAX).optional(),
    sessionId: z.string().max(256).optional(),
    /** The kind of item (Codex: `agent_message`, `command_execution`, `file_change`…). */
    item: z.string().max(64).optional(),
    /** The tool's own status word (Claude's result `subtype`…). */
    status: z.string().max(64).optional(),
    inputTokens: count.optional(),
    outputTokens: count.optional(),
    costUsd: count.optional(),
    durationMs: count.optional(),
  })
  .strict();
export type ProgressStep = z.infer<typeof progressStep>;

const clipText = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const finite = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined);

/** A step cut down to what the schema accepts (a runner's long tool name must not fail the whole log batch). */
export function capProgress(step: ProgressStep): ProgressStep {
  const out: ProgressStep = {
    kind: clipText(step.kind || 'step', 64),
    summary: clipText(step.summary ?? '', PROGRESS_TEXT_MAX),
  };
  const turn = finite(step.turn);
  if (turn !== undefined) out.turn = Math.floor(turn);
  if (Array.isArray(step.tools) && step.tools.length > 0)
    out.tools = step.tools.slice(0, PROGRESS_TOOLS_MAX).map((t) => clipText(String(t), PROGRESS_NAME_MAX));
  if (typeof step.sessionId === 'string') out.sessionId = clipText(step.sessionId, 256);
  if (typeof step.item === 'string') out.item = clipText(step.item, 64);
  if (typeof step.status === 'string') out.status = clipText(step.status, 64);
  for (const k of ['inputTokens', 'outputTokens', 'costUsd', 'durationMs'] as const) {
    const v = finite(step[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export const payloadSchemas = {
  /** coordinator/API → agent: run this attempt. */
  task: z.object({
    type: idText,
    agent: idText,
    input: z.unknown(),
    timeoutMs: z.number().int().positive(),
  }),
  /** agent → coordinator: an instance began the attempt. */
  started: instanceInfo,
  /** agent → coordinator: log lines of a running attempt (batched). */
  log: instanceInfo.extend({
    lines: z
      .array(
        z.object({
          ts: epochMs,
          level: z.enum(['debug', 'info', 'warn', 'error']),
          message: z.string().max(65_536),
          /** Coding runners only: the step this line describes, recorded as a task.progress event. */
          progress: progressStep.optional(),
        }),
      )
      .min(1)
      .max(1_000),
  }),
  /** agent → coordinator: the attempt's outcome. */
  result: instanceInfo.extend({
    ok: z.boolean(),
    output: z.unknown().optional(),
    error: errorBody.optional(),
    /** false when retrying cannot help (budget, auth, invalid input). */
    retryable: z.boolean().optional(),
    usage: usage.optional(),
    durationMs: z.number().nonnegative(),
    /** When the attempt began (ms since the epoch): the start of an attempt whose `started` was folded in. */
    startedAt: epochMs.optional(),
  }),
  /** agent → coordinator: the message was delivered too often and went to the dead-letter stream. */
  dead: instanceInfo.extend({ reason: z.string(), deliveries: z.number().int() }),
  /** agent → coordinator: instance liveness, beside the TTL key. */
  heartbeat: instanceInfo.extend({
    state: z.enum(['online', 'beat', 'offline']),
    host: z.string(),
    pid: z.number().int(),
    concurrency: z.number().int(),
    running: z.number().int(),
    startedAt: epochMs,
  }),
} as const;

export type MessageKind = keyof typeof payloadSchemas;
export type Payload<K extends MessageKind> = z.infer<(typeof payloadSchemas)[K]>;

const TASK_KINDS = new Set<MessageKind>(['task', 'started', 'log', 'result', 'dead']);

const headerSchema = z.object({
  v: z.literal(ENVELOPE_VERSION),
  kind: z.enum(Object.keys(payloadSchemas) as [MessageKind, ...MessageKind[]]),
  cid,
  tp: z.string().max(512),
  ts: z.coerce.number().int().positive().max(MAX_EPOCH_MS),
  wf: idText.optional(),
  task: idText.optional(),
  attempt: z.coerce.number().int().min(1).optional(),
  payload: z.string(),
});

export interface Envelope<K extends MessageKind = MessageKind> {
  kind: K;
  cid: string;
  tp: string;
  ts: number;
  wf?: string;
  task?: string;
  attempt?: number;
  payload: Payload<K>;
}

export type AnyEnvelope = { [K in MessageKind]: Envelope<K> }[MessageKind];

/** Flattens an envelope into stream fields, validating it first. */
export function encode<K extends MessageKind>(env: Envelope<K>): string[] {
  const checked = validate(env.kind, env);
  if ('problem' in checked)
    throw new HiveError(
      'HIVE_ERR_MESSAGE_INVALID',
      `refusing to write a ${env.kind} message: ${checked.problem}`,
    );
  const fields = [
    'v',
    ENVELOPE_VERSION,
    'kind',
    env.kind,
    'cid',
    env.cid,
    'tp',
    env.tp,
    'ts',
    String(env.ts),
  ];
  if (env.wf !== undefined) fields.push('wf', env.wf);
  if (env.task !== undefined) fields.push('task', env.task);
  if (env.attempt !== undefined) fields.push('attempt', String(env.attempt));
  fields.push('payload', JSON.stringify(env.payload));
  return fields;
}

/** The parsed payload, or what is wrong with the message. */
function validate(
  kind: MessageKind,
  env: { wf?: unknown; task?: unknown; attempt?: unknown; payload: unknown },
): { problem: string } | { payload: unknown } {
  if (TASK_KINDS.has(kind) && (env.wf === undefined || env.task === undefined || env.attempt === undefined)) {
    return { problem: `a ${kind} message needs wf, task and attempt` };
  }
  const parsed = payloadSchemas[kind].safeParse(env.payload);
  if (!parsed.success) return { problem: `payload: ${describe(parsed.error)}` };
  return { payload: parsed.data };
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
}

export type DecodeResult =
  | { ok: true; envelope: AnyEnvelope }
  | { ok: false; reason: string; fields: Record<string, string> };

/** Parses stream fields; never throws. */
export function decode(fieldList: readonly string[]): DecodeResult {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < fieldList.length; i += 2) fields[fieldList[i]!] = fieldList[i + 1]!;
  const header = headerSchema.safeParse(fields);
  if (!header.success) return { ok: false, reason: `envelope: ${describe(header.error)}`, fields };
  let payload: unknown;
  try {
    payload = JSON.parse(header.data.payload);
  } catch {
    return { ok: false, reason: 'payload: not JSON', fields };
  }
  const { kind, cid: c, tp, ts, wf, task, attempt } = header.data;
  const checked = validate(kind, { wf, task, attempt, payload });
  if ('problem' in checked) return { ok: false, reason: checked.problem, fields };
  const envelope = { kind, cid: c, tp, ts, payload: checked.payload } as AnyEnvelope;
  if (wf !== undefined) envelope.wf = wf;
  if (task !== undefined) envelope.task = task;
  if (attempt !== undefined) envelope.attempt = attempt;
  return { ok: true, envelope };
}
