/* errors: the numbered error codes of proto/proto.h, what to tell people, and
 * what the client does about each. Pure. */

export const Err = {
  BAD_JSON: 1000,
  BAD_MESSAGE: 1001,
  UNKNOWN_TYPE: 1002,
  TOO_LARGE: 1003,
  BAD_VERSION: 1004,
  NOT_JOINED: 1005,
  ALREADY_JOINED: 1006,
  BAD_SDP: 1010,
  BAD_CANDIDATE: 1011,
  BAD_STATE: 1012,
  BAD_HTTP: 1020,
  BAD_WEBSOCKET: 1021,
  RATE_LIMITED: 1030,
  ROOM_NOT_FOUND: 2000,
  ROOM_LOST: 2001,
  SESSION_NOT_FOUND: 2002,
  PARTICIPANT_NOT_FOUND: 2003,
  ROOM_ENDED: 2004,
  ROOM_FULL: 2005,
  UNAUTHORIZED: 3000,
  FORBIDDEN: 3001,
  TOKEN_EXPIRED: 3002,
  REMOVED: 3003,
  INTERNAL: 5000,
  UNAVAILABLE: 5001,
  NO_WORKER: 5002,
  TIMEOUT: 5003,
} as const;

const TITLES: Record<number, string> = {
  [Err.ROOM_NOT_FOUND]: 'Meeting not found',
  [Err.ROOM_LOST]: 'The meeting was interrupted',
  [Err.ROOM_ENDED]: 'The meeting has ended',
  [Err.ROOM_FULL]: 'The meeting is full',
  [Err.UNAUTHORIZED]: "Your meeting link isn't valid",
  [Err.FORBIDDEN]: "You can't join this meeting",
  [Err.TOKEN_EXPIRED]: 'Your meeting link has expired',
  [Err.REMOVED]: 'You were removed from the meeting',
};

const TEXTS: Record<number, string> = {
  [Err.ROOM_NOT_FOUND]: 'Check the meeting code or link and try again.',
  [Err.ROOM_LOST]: 'The server hosting this meeting stopped. Start or join a new meeting.',
  [Err.ROOM_ENDED]: 'A host ended the meeting for everyone.',
  [Err.REMOVED]: 'A host removed you from this meeting. You can ask to join again; a host has to let you in.',
  [Err.ROOM_FULL]: 'No more people can join this meeting right now.',
  [Err.UNAUTHORIZED]: 'The host link you used is not valid for this meeting. Ask for a new link.',
  [Err.FORBIDDEN]: 'You are not allowed to do that.',
  [Err.TOKEN_EXPIRED]: 'The host link you used has expired. Create a new meeting or ask for a new link.',
  [Err.RATE_LIMITED]: 'Too many actions in a short time. Slow down a little.',
  [Err.SESSION_NOT_FOUND]: 'Your previous connection expired; joining again.',
  [Err.INTERNAL]: 'Something went wrong on the server.',
  [Err.UNAVAILABLE]: 'The service is busy. Trying again…',
  [Err.NO_WORKER]: 'No media server is available right now. Trying again…',
  [Err.TIMEOUT]: 'The server took too long to answer. Trying again…',
  [Err.BAD_SDP]: "Your browser's media setup was rejected by the server.",
};

/* Fatal: the call cannot continue, show a full-screen message. */
const FATAL = new Set<number>([
  Err.ROOM_NOT_FOUND,
  Err.ROOM_LOST,
  Err.ROOM_ENDED,
  Err.UNAUTHORIZED,
  Err.TOKEN_EXPIRED,
  Err.REMOVED,
]);

export function errorTitle(code: number): string {
  return TITLES[code] ?? 'Something went wrong';
}

/* A sentence for people; the server's message is a fallback for codes we do
 * not know, never shown raw for those we do. */
export function errorText(code: number, serverMessage?: string): string {
  return TEXTS[code] ?? (serverMessage && serverMessage.length < 200 ? serverMessage : 'Something went wrong.');
}

export type ErrorAction =
  | 'fatal' /* end the call, full-screen message */
  | 'fresh-join' /* the session to resume is gone: new pc, join without resume */
  | 'retry' /* the join failed for a transient reason: reconnect with backoff */
  | 'toast'; /* tell the user, carry on */

/* Decides what to do with error{code, ref}. */
export function classifyError(code: number, ref?: string): ErrorAction {
  if (FATAL.has(code)) return 'fatal';
  if (code === Err.SESSION_NOT_FOUND) return 'fresh-join';
  if (ref === 'join') {
    if (code >= 5000) return 'retry';
    /* room_full, forbidden, a malformed join: nothing a retry would fix. */
    return 'fatal';
  }
  return 'toast';
}

/* closed{code}: 5xxx means the media server stopped or lost our media
 * connection, and a fresh join (possibly placed elsewhere) may work; any
 * other code ends the call. */
export function classifyClosed(code: number): 'rejoin' | 'end' {
  return code >= 5000 && code < 6000 ? 'rejoin' : 'end';
}
