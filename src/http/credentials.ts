// HTTP Basic credentials, decoded exactly as received: strict base64, UTF-8
// with a Latin-1 fallback, split at the first colon. Anything else is null.

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseBasicAuth(header: string | undefined): { login: string; password: string } | null {
  if (header === undefined) return null;
  const m = /^Basic +(\S+)\s*$/i.exec(header);
  if (m === null || !BASE64.test(m[1])) return null;
  const raw = Buffer.from(m[1], 'base64');
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    text = raw.toString('latin1');
  }
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const login = text.slice(0, colon);
  if (login.length === 0) return null;
  return { login, password: text.slice(colon + 1) };
}
