import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** Time-sortable identifiers (UUIDv7): rows and log lines sort by creation without a separate clock column. */
export function newId(): string {
  return uuidv7();
}

/** The correlation ID pattern of CONTRACT §6. */
export const CORRELATION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function isValidCorrelationId(value: unknown): value is string {
  return typeof value === 'string' && CORRELATION_ID_PATTERN.test(value);
}

/**
 * Random bytes drawn from a pool refilled 4 KiB at a time: one span ID per dispatched task made
 * `randomBytes(8)` (a system call each) a visible cost of the coordinator.
 */
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  // All-zero IDs are invalid (W3C); drawing one is a 2^-64 event, but it must not escape.
  return /^0+$/.test(hex) ? randomHex(bytes) : hex;
}

/** W3C trace IDs are 16 random bytes, span IDs 8; all-zero values are invalid by the spec. */
export function newTraceId(): string {
  return randomHex(16);
}

export function newSpanId(): string {
  return randomHex(8);
}
