/* lobby: the guests waiting to be admitted, as hosts see them. Pure.
 * Order is arrival order; a guest who knocks again replaces their entry. */
import type { LobbyEntry, ServerMsg } from './protocol';

export interface LobbyState {
  enabled: boolean;
  waiting: LobbyEntry[];
}

export const emptyLobby: LobbyState = { enabled: true, waiting: [] };

/* joined: the server's list replaces ours (hosts only; guests get []).
 * A server without lobby support leaves lobby_enabled out: keep ours. */
export function lobbyFromJoined(prev: LobbyState, m: Extract<ServerMsg, { type: 'joined' }>): LobbyState {
  const seen = new Set<string>();
  const waiting = (m.lobby ?? []).filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
  return { enabled: m.lobbyEnabled ?? prev.enabled, waiting };
}

export function lobbyApply(s: LobbyState, m: ServerMsg): LobbyState {
  switch (m.type) {
    case 'lobby_request': {
      const i = s.waiting.findIndex((e) => e.id === m.participant.id);
      if (i < 0) return { ...s, waiting: [...s.waiting, m.participant] };
      const waiting = s.waiting.slice();
      waiting[i] = m.participant;
      return { ...s, waiting };
    }
    case 'lobby_left': {
      const waiting = s.waiting.filter((e) => e.id !== m.participant);
      return waiting.length === s.waiting.length ? s : { ...s, waiting };
    }
    case 'room_updated':
      return m.lobbyEnabled === undefined || m.lobbyEnabled === s.enabled ? s : { ...s, enabled: m.lobbyEnabled };
    default:
      return s;
  }
}

/* Optimistic local removal after the host clicked admit / deny (the
 * server's lobby_left confirms it; an error brings nothing back, the next
 * joined does). */
export function lobbyDrop(s: LobbyState, id: string | null): LobbyState {
  const waiting = id === null ? [] : s.waiting.filter((e) => e.id !== id);
  return waiting.length === s.waiting.length ? s : { ...s, waiting };
}

/* "Ada wants to join", "Ada and Bob want to join", "Ada and 2 others want to join". */
export function knockText(waiting: LobbyEntry[]): string {
  const n = waiting.length;
  if (n === 0) return '';
  const first = waiting[0].name || 'Someone';
  if (n === 1) return `${first} wants to join`;
  if (n === 2) return `${first} and ${waiting[1].name || 'someone'} want to join`;
  return `${first} and ${n - 1} others want to join`;
}
