import { HiveError } from '../../core/errors.js';

/** Opaque keyset cursors: base64url JSON of the last row's key. */
export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify({ k: key })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | number | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    if (typeof v.k === 'string' || typeof v.k === 'number') return v.k;
  } catch {
    /* fall through */
  }
  throw new HiveError('HIVE_ERR_CURSOR_INVALID', 'cursor is not one this server issued');
}
