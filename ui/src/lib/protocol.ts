/* protocol: the browser <-> edge messages (docs/protocol.md), with a lenient
 * parser for what the server sends. Pure. */

export const PROTO_VERSION = 1;

export interface ParticipantInfo {
  id: string;
  name: string;
  role: string;
  audio: boolean;
  video: boolean;
  /* Presenting their screen (a flag the server may add; absent = false). */
  screen?: boolean;
}

/* A guest waiting in the lobby, as hosts see it. */
export interface LobbyEntry {
  id: string;
  name: string;
  removedBefore: boolean;
}

export interface ChatMsg {
  from: string;
  name: string;
  text: string;
  ts: number;
  /* Local only: our own message, and whether the server refused it. */
  self?: boolean;
  failed?: boolean;
}

export type MediaKind = 'audio' | 'video';

export interface TrackInfo {
  mid: string;
  participant: string;
  kind: 'audio' | 'video' | string;
}

export type ServerMsg =
  | {
      type: 'joined';
      session: string;
      participant: string;
      room: string;
      role: string;
      resume: string;
      participants: ParticipantInfo[];
      /* issue 3: absent on servers without a lobby. */
      lobbyEnabled?: boolean;
      lobby?: LobbyEntry[];
    }
  | { type: 'credential'; token: string }
  | { type: 'lobby_waiting'; room: string; resume?: string }
  | { type: 'lobby_denied' }
  | { type: 'lobby_request'; participant: LobbyEntry }
  | { type: 'lobby_left'; participant: string; reason: string }
  | { type: 'room_updated'; lobbyEnabled?: boolean }
  | { type: 'muted'; kind: MediaKind; by: string }
  | { type: 'unmute_request'; kind: MediaKind; by: string }
  | { type: 'chat'; from: string; name: string; text: string; ts: number }
  | { type: 'active_speaker'; participant: string | null }
  /* Dynacast: which of our simulcast encodings (lowest first) to send. */
  | { type: 'layers'; active: boolean[] }
  | { type: 'participant_joined'; participant: ParticipantInfo }
  | { type: 'participant_updated'; participant: Partial<ParticipantInfo> & { id: string } }
  | { type: 'participant_left'; participant: string }
  | { type: 'offer'; sdp: string; tracks: TrackInfo[] }
  | { type: 'error'; code: number; name: string; message: string; ref?: string }
  | { type: 'pong'; id?: unknown }
  | { type: 'closed'; code: number; reason: string };

export type ClientMsg =
  | { v: 1; type: 'join'; room: string; name: string; token?: string; resume?: string }
  | { v: 1; type: 'answer'; sdp: string }
  | { v: 1; type: 'candidate'; candidate: string | null; sdpMid?: string | null; sdpMLineIndex?: number | null }
  | { v: 1; type: 'leave' }
  | { v: 1; type: 'ping'; id?: unknown }
  | { v: 1; type: 'media_state'; audio: boolean; video: boolean; screen?: boolean }
  | { v: 1; type: 'admit' | 'deny' | 'remove' | 'promote'; participant: string }
  | { v: 1; type: 'admit_all' | 'end' }
  | { v: 1; type: 'set_lobby'; enabled: boolean }
  | { v: 1; type: 'mute' | 'ask_unmute'; participant: string; kind: MediaKind }
  | { v: 1; type: 'chat'; text: string }
  /* The size (device pixels) we show a participant's video at; 0x0: hidden. */
  | { v: 1; type: 'video_size'; participant: string; width: number; height: number };

/* Host actions (issue 3): the messages only hosts and cohosts may send. */
export type HostMsg = Extract<ClientMsg, { type: 'admit' | 'deny' | 'remove' | 'promote' | 'admit_all' | 'end' | 'set_lobby' | 'mute' | 'ask_unmute' }>;


/* Roles with host powers. */
export function isHostRole(role: string | undefined): boolean {
  return role === 'host' || role === 'cohost';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

/* A participant object, with missing flags as false; null if unusable. */
export function parseParticipant(v: unknown): ParticipantInfo | null {
  if (!isObj(v) || !isStr(v.id) || v.id === '') return null;
  return {
    id: v.id,
    name: isStr(v.name) ? v.name : '',
    role: isStr(v.role) ? v.role : 'guest',
    audio: v.audio === true,
    video: v.video === true,
    ...(v.screen === true ? { screen: true } : {}),
  };
}

export function parseLobbyEntry(v: unknown): LobbyEntry | null {
  if (!isObj(v) || !isStr(v.id) || v.id === '') return null;
  return { id: v.id, name: isStr(v.name) ? v.name : '', removedBefore: v.removed_before === true };
}

const isKind = (v: unknown): v is MediaKind => v === 'audio' || v === 'video';

function parseUpdate(v: unknown): (Partial<ParticipantInfo> & { id: string }) | null {
  if (!isObj(v) || !isStr(v.id)) return null;
  const u: Partial<ParticipantInfo> & { id: string } = { id: v.id };
  if (isStr(v.name)) u.name = v.name;
  if (isStr(v.role)) u.role = v.role;
  if (typeof v.audio === 'boolean') u.audio = v.audio;
  if (typeof v.video === 'boolean') u.video = v.video;
  if (typeof v.screen === 'boolean') u.screen = v.screen;
  return u;
}

function parseTracks(v: unknown): TrackInfo[] {
  if (!Array.isArray(v)) return [];
  const out: TrackInfo[] = [];
  for (const t of v) {
    if (isObj(t) && isStr(t.mid) && isStr(t.participant))
      out.push({ mid: t.mid, participant: t.participant, kind: isStr(t.kind) ? t.kind : '' });
  }
  return out;
}

/* Parses one text frame. Unknown types and malformed messages give null
 * (ignored: the server may add types later). */
export function parseServerMessage(text: string): ServerMsg | null {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObj(m) || !isStr(m.type)) return null;
  if (m.v !== undefined && m.v !== PROTO_VERSION) return null;
  switch (m.type) {
    case 'joined': {
      if (!isStr(m.session) || !isStr(m.participant) || !isStr(m.room) || !Array.isArray(m.participants))
        return null;
      const participants = m.participants.map(parseParticipant).filter((p): p is ParticipantInfo => p !== null);
      return {
        type: 'joined',
        session: m.session,
        participant: m.participant,
        room: m.room,
        role: isStr(m.role) ? m.role : 'guest',
        resume: isStr(m.resume) ? m.resume : '',
        participants,
        ...(typeof m.lobby_enabled === 'boolean' ? { lobbyEnabled: m.lobby_enabled } : {}),
        ...(Array.isArray(m.lobby) ? { lobby: m.lobby.map(parseLobbyEntry).filter((p): p is LobbyEntry => p !== null) } : {}),
      };
    }
    case 'credential':
      return isStr(m.token) && m.token !== '' ? { type: 'credential', token: m.token } : null;
    case 'lobby_waiting':
      return { type: 'lobby_waiting', room: isStr(m.room) ? m.room : '', ...(isStr(m.resume) && m.resume ? { resume: m.resume } : {}) };
    case 'lobby_denied':
      return { type: 'lobby_denied' };
    case 'lobby_request': {
      const e = parseLobbyEntry(m.participant);
      return e ? { type: 'lobby_request', participant: e } : null;
    }
    case 'lobby_left': {
      const id = isStr(m.participant) ? m.participant : isObj(m.participant) && isStr(m.participant.id) ? m.participant.id : null;
      return id ? { type: 'lobby_left', participant: id, reason: isStr(m.reason) ? m.reason : '' } : null;
    }
    case 'room_updated':
      return { type: 'room_updated', lobbyEnabled: typeof m.lobby_enabled === 'boolean' ? m.lobby_enabled : undefined };
    case 'muted':
    case 'unmute_request':
      return isKind(m.kind) ? { type: m.type, kind: m.kind, by: isStr(m.by) ? m.by : '' } : null;
    case 'chat':
      return isStr(m.text)
        ? {
            type: 'chat',
            from: isStr(m.from) ? m.from : '',
            name: isStr(m.name) ? m.name : '',
            text: m.text,
            ts: typeof m.ts === 'number' ? m.ts : Date.now(),
          }
        : null;
    case 'active_speaker':
      return { type: 'active_speaker', participant: isStr(m.participant) && m.participant !== '' ? m.participant : null };
    case 'layers':
      return Array.isArray(m.active) ? { type: 'layers', active: m.active.map((x) => x === true) } : null;
    case 'participant_joined': {
      const p = parseParticipant(m.participant);
      return p ? { type: 'participant_joined', participant: p } : null;
    }
    case 'participant_updated': {
      const p = parseUpdate(m.participant);
      return p ? { type: 'participant_updated', participant: p } : null;
    }
    case 'participant_left': {
      const id = isStr(m.participant) ? m.participant : isObj(m.participant) && isStr(m.participant.id) ? m.participant.id : null;
      return id ? { type: 'participant_left', participant: id } : null;
    }
    case 'offer':
      return isStr(m.sdp) ? { type: 'offer', sdp: m.sdp, tracks: parseTracks(m.tracks) } : null;
    case 'error':
      return typeof m.code === 'number'
        ? {
            type: 'error',
            code: m.code,
            name: isStr(m.name) ? m.name : '',
            message: isStr(m.message) ? m.message : '',
            ref: isStr(m.ref) ? m.ref : undefined,
          }
        : null;
    case 'pong':
      return { type: 'pong', id: m.id };
    case 'closed':
      return {
        type: 'closed',
        code: typeof m.code === 'number' ? m.code : 0,
        reason: isStr(m.reason) ? m.reason : '',
      };
    default:
      return null;
  }
}

export function joinMsg(room: string, name: string, token?: string | null, resume?: string | null): ClientMsg {
  const m: ClientMsg = { v: 1, type: 'join', room, name };
  if (token) m.token = token;
  if (resume) m.resume = resume;
  return m;
}

export function candidateMsg(
  c: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null } | null,
): ClientMsg {
  if (!c) return { v: 1, type: 'candidate', candidate: null };
  const m: ClientMsg = { v: 1, type: 'candidate', candidate: c.candidate };
  if (c.sdpMid !== null) m.sdpMid = c.sdpMid;
  if (c.sdpMLineIndex !== null) m.sdpMLineIndex = c.sdpMLineIndex;
  return m;
}
