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

/** W3C trace IDs are 16 random bytes, span IDs 8; all-zero values are invalid by the spec. */
export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

export function newSpanId(): string {
  return randomBytes(8).toString('hex');
}
