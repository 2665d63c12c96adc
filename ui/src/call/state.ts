/* state: what the call screen shows, kept in one store. */
import { createStore, type Store } from '../lib/store';
import { emptyRoster, type Roster } from '../lib/roster';
import { emptyLobby, type LobbyState } from '../lib/lobby';
import type { ConnState } from '../lib/connstate';
import type { ChatMsg, MediaKind } from '../lib/protocol';

export type Panel = 'none' | 'people' | 'chat';

export interface CallState {
  room: string;
  name: string;
  role: string;
  /* joining: until the server answers the join; lobby: waiting to be
   * admitted; call: in the meeting. */
  phase: 'joining' | 'lobby' | 'call';
  roster: Roster;
  lobby: LobbyState;
  conn: ConnState;
  mic: boolean;
  cam: boolean;
  hasMic: boolean;
  hasCam: boolean;
  /* Sharing our screen (sent in place of the camera). */
  presenting: boolean;
  panel: Panel;
  chat: ChatMsg[];
  /* false once the server said it does not know chat. */
  chatAvailable: boolean;
  unread: number;
  /* The active speaker's participant id. */
  speaker: string | null;
  /* A host asked us to turn this device back on. */
  ask: MediaKind | null;
  /* Bumped whenever a participant's MediaStream changes. */
  mediaRev: number;
}

export type CallStore = Store<CallState>;

export function newCallStore(init: Pick<CallState, 'room' | 'name' | 'mic' | 'cam' | 'hasMic' | 'hasCam'>): CallStore {
  return createStore<CallState>({
    ...init,
    role: 'guest',
    phase: 'joining',
    roster: emptyRoster,
    lobby: emptyLobby,
    conn: 'connecting',
    presenting: false,
    panel: 'none',
    chat: [],
    chatAvailable: true,
    unread: 0,
    speaker: null,
    ask: null,
    mediaRev: 0,
  });
}
