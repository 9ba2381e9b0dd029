// Time formats of the /0.1 token object (Python isoformat compatible).

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** UTC, `YYYY-MM-DDTHH:MM:SS.ffffff` (always 6 fractional digits). */
export function formatUtc(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}000`
  );
}

/** Server-local time, ISO 8601 without offset, 6 fractional digits. */
export function formatLocal(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}000`
  );
}
