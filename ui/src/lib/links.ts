/* links: meeting codes, links, host tokens and display names. Pure (no DOM). */

/* proto.h: ids are [A-Za-z0-9_-], 1..64 bytes. */
export const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_NAME_BYTES = 64;

export function isValidId(s: string): boolean {
  return ID_RE.test(s);
}

/* Accepts a meeting code ("abc-defg-hij"), a path ("/r/abc-defg-hij") or a
 * full link ("https://host/r/abc-defg-hij#..."); returns the room id or null. */
export function parseMeetingInput(input: string): string | null {
  const s = input.trim();
  if (s === '') return null;
  if (ID_RE.test(s)) return s;
  const m = /(?:^|\/)r\/([A-Za-z0-9_-]{1,64})(?=$|[/?#])/.exec(s);
  if (m) return m[1];
  /* "abc defg hij" as read aloud or copied with spaces. */
  const spaced = s.replace(/\s+/g, '-');
  return ID_RE.test(spaced) ? spaced : null;
}

/* "/r/<room>" (optionally with a trailing slash) -> room, else null. */
export function roomFromPath(pathname: string): string | null {
  const m = /^\/r\/([^/]+)\/?$/.exec(pathname);
  if (!m) return null;
  let id: string;
  try {
    id = decodeURIComponent(m[1]);
  } catch {
    return null;
  }
  return id;
}

/* The host credential rides in the fragment: "#host=<jwt>", possibly among
 * other "&"-separated parameters. Returns the token and the fragment left
 * once it is removed ("" when nothing is left). */
export function takeHostToken(hash: string): { token: string | null; rest: string } {
  const h = hash.startsWith('#') ? hash.slice(1) : hash;
  if (h === '') return { token: null, rest: '' };
  let token: string | null = null;
  const keep: string[] = [];
  for (const part of h.split('&')) {
    if (part.startsWith('host=') && token === null) {
      let v = part.slice(5);
      try {
        v = decodeURIComponent(v);
      } catch {
        /* keep it raw */
      }
      token = v === '' ? null : v;
    } else if (part !== '') {
      keep.push(part);
    }
  }
  return { token, rest: keep.length ? '#' + keep.join('&') : '' };
}

export function meetingLink(origin: string, room: string): string {
  return origin.replace(/\/+$/, '') + '/r/' + room;
}

export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

export type NameCheck = { ok: true; name: string } | { ok: false; reason: string };

/* proto.c vc_proto_name_ok: 1..64 bytes of UTF-8, no control characters,
 * not only spaces. The name is trimmed first. */
export function checkName(raw: string): NameCheck {
  const name = raw.trim();
  if (name === '') return { ok: false, reason: 'Enter your name.' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return { ok: false, reason: 'The name contains invalid characters.' };
  if (/[\ud800-\udfff]/.test(name.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')))
    return { ok: false, reason: 'The name contains invalid characters.' };
  if (utf8Length(name) > MAX_NAME_BYTES) return { ok: false, reason: 'The name is too long.' };
  return { ok: true, name };
}

/* Up to two initials for an avatar. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = Array.from(words[0])[0] ?? '';
  const last = words.length > 1 ? (Array.from(words[words.length - 1])[0] ?? '') : '';
  return (first + last).toUpperCase();
}
