import { hash } from 'node:crypto';

/**
 * A strong ETag of a resource as the API shows it: any change of it (updated_at moves on
 * every change) gives another tag, and the same representation always the same one.
 */
export function etagOf(representation: unknown): string {
  return etagOfText(JSON.stringify(representation));
}

/** The ETag of a representation already serialized as JSON (as it is sent). */
export function etagOfText(json: string): string {
  // The one-shot hash: no Hash object made per answer.
  const digest = hash('sha256', json, 'base64url');
  return `"${digest.slice(0, 27)}"`;
}

/** The entity-tags of an If-Match or If-None-Match header; `*` stays as it is. */
export function parseEntityTags(header: string | undefined): string[] | undefined {
  if (header === undefined) return undefined;
  return header
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

/** If-Match: strong comparison, so a weak tag (W/"…") never matches. */
export function matchesStrongly(tags: string[], etag: string): boolean {
  return tags.some((t) => t === '*' || t === etag);
}

/** If-None-Match: weak comparison, W/ prefixes ignored. */
export function matchesWeakly(tags: string[], etag: string): boolean {
  return tags.some((t) => t === '*' || t.replace(/^W\//, '') === etag);
}
