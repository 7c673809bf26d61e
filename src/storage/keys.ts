/**
 * Where an export's file lives in the bucket and the name it downloads as:
 * objects under `exports/<tenantId>/<exportId>/[<attempt>/]<fileName>`
 * (docs/files.md) with a `Content-Disposition: attachment` carrying the name.
 */

function keySegment(what: string, value: string): string {
  if (!value || value === '.' || value === '..' || value.includes('/') || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new Error(`Invalid ${what} for a storage key: ${JSON.stringify(value)}`);
  }
  return value;
}

/** `exports/<tenantId>/<exportId>/` — the folder of one export (for deletePrefix / abortMultipartUploads). */
export function exportPrefix(tenantId: string, exportId: string): string {
  return `exports/${keySegment('tenant id', tenantId)}/${keySegment('export id', exportId)}/`;
}

/**
 * `exports/<tenantId>/<exportId>/<fileName>`; with an attempt,
 * `exports/<tenantId>/<exportId>/<attempt>/<fileName>`: each attempt writes
 * its own object, so that an attempt that lost its lease can never
 * overwrite or delete the file of the attempt that won.
 */
export function objectKey(tenantId: string, exportId: string, fileName: string, attempt?: number): string {
  const folder = attempt === undefined ? '' : `${keySegment('attempt', String(attempt))}/`;
  return `${exportPrefix(tenantId, exportId)}${folder}${keySegment('file name', fileName)}`;
}

/** RFC 5987 attr-char: encodeURIComponent leaves ' ( ) * unescaped, which attr-char does not allow. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`
 * (RFC 6266 §4.3): modern browsers use filename*, old ones the ASCII fallback
 * (accents stripped, anything else non-ASCII or quote-breaking → `_`).
 * The header value itself is pure ASCII, as HTTP requires.
 */
export function contentDisposition(fileName: string): string {
  const fallback = fileName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeRfc5987(fileName)}`;
}
