import { HiveError } from '../../core/errors.js';

/** Opaque keyset cursors: base64url JSON of the last row's key. */
export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify({ k: key })).toString('base64url');
}

export function invalidCursor(): HiveError {
  return new HiveError('HIVE_ERR_CURSOR_INVALID', 'cursor is not one this server issued');
}

export function decodeCursor(cursor: string | undefined): string | number | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    if (typeof v.k === 'string' && v.k.length <= 256) return v.k;
    if (typeof v.k === 'number' && Number.isSafeInteger(v.k) && v.k >= 0) return v.k;
  } catch {
    /* fall through */
  }
  throw invalidCursor();
}
