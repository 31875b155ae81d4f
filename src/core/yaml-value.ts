import type { Document } from 'yaml';

/**
 * A YAML document's value. toJS() throws on some documents that parse without errors (an alias to an anchor
 * that does not exist, alias bombs past the limit): those become a problem to report, not an exception.
 */
export function yamlValue(doc: Document): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
  } catch (err) {
    return { ok: false, message: (err as Error).message.split('\n')[0] ?? 'invalid YAML' };
  }
}
