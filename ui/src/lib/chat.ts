/* chat: the message list. Pure. */
import type { ChatMsg } from './protocol';
import { utf8Length } from './links';

export const MAX_MESSAGES = 500;
export const MAX_CHAT_BYTES = 2000;

export function chatAppend(list: ChatMsg[], m: ChatMsg): ChatMsg[] {
  const out = list.length >= MAX_MESSAGES ? list.slice(list.length - MAX_MESSAGES + 1) : list.slice();
  out.push(m);
  return out;
}

/* Marks our own messages not yet confirmed as failed (the server refused chat). */
export function chatMarkFailed(list: ChatMsg[]): ChatMsg[] {
  return list.some((m) => m.self && !m.failed) ? list.map((m) => (m.self && !m.failed ? { ...m, failed: true } : m)) : list;
}

export type ChatCheck = { ok: true; text: string } | { ok: false; reason: string };

export function checkChat(raw: string): ChatCheck {
  const text = raw.trim();
  if (text === '') return { ok: false, reason: '' };
  if (utf8Length(text) > MAX_CHAT_BYTES) return { ok: false, reason: 'The message is too long.' };
  return { ok: true, text };
}

/* "14:05" for a message time (local clock). */
export function chatTime(ts: number): string {
  const d = new Date(ts);
  return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
}
