/* roster: who is in the meeting, as an immutable value updated by server
 * messages. Pure. Order is join order, self first. */
import type { ParticipantInfo, ServerMsg } from './protocol';

export interface Roster {
  self: string | null;
  list: ParticipantInfo[];
}

export const emptyRoster: Roster = { self: null, list: [] };

function selfFirst(self: string | null, list: ParticipantInfo[]): ParticipantInfo[] {
  const i = list.findIndex((p) => p.id === self);
  if (i <= 0) return list;
  return [list[i], ...list.slice(0, i), ...list.slice(i + 1)];
}

/* joined: the list replaces whatever we had (a resume may follow missed
 * events). Self is added if the server left it out. */
export function rosterFromJoined(
  m: Extract<ServerMsg, { type: 'joined' }>,
  selfName: string,
  audio: boolean,
  video: boolean,
): Roster {
  const seen = new Set<string>();
  const list: ParticipantInfo[] = [];
  for (const p of m.participants) {
    if (seen.has(p.id)) continue;
    seen.add(p.id);
    list.push(p);
  }
  if (!seen.has(m.participant))
    list.unshift({ id: m.participant, name: selfName, role: m.role, audio, video });
  return { self: m.participant, list: selfFirst(m.participant, list) };
}

/* Applies one roster event; other messages return the roster unchanged. */
export function rosterApply(r: Roster, m: ServerMsg): Roster {
  switch (m.type) {
    case 'participant_joined': {
      const i = r.list.findIndex((p) => p.id === m.participant.id);
      if (i >= 0) {
        const list = r.list.slice();
        list[i] = m.participant;
        return { ...r, list };
      }
      return { ...r, list: [...r.list, m.participant] };
    }
    case 'participant_updated': {
      const i = r.list.findIndex((p) => p.id === m.participant.id);
      if (i < 0) return r;
      const list = r.list.slice();
      list[i] = { ...list[i], ...m.participant };
      return { ...r, list };
    }
    case 'participant_left': {
      if (m.participant === r.self) return r;
      const list = r.list.filter((p) => p.id !== m.participant);
      return list.length === r.list.length ? r : { ...r, list };
    }
    default:
      return r;
  }
}

/* Our own media flags changed locally (before the server echoes them). */
export function rosterSetSelfMedia(r: Roster, audio: boolean, video: boolean): Roster {
  if (!r.self) return r;
  return rosterApply(r, { type: 'participant_updated', participant: { id: r.self, audio, video } });
}

export function rosterGet(r: Roster, id: string): ParticipantInfo | undefined {
  return r.list.find((p) => p.id === id);
}
