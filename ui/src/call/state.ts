/* state: what the call screen shows, kept in one store. */
import { createStore, type Store } from '../lib/store';
import { emptyRoster, type Roster } from '../lib/roster';
import type { ConnState } from '../lib/connstate';

export interface CallState {
  room: string;
  name: string;
  role: string;
  roster: Roster;
  conn: ConnState;
  mic: boolean;
  cam: boolean;
  hasMic: boolean;
  hasCam: boolean;
  panel: 'none' | 'people';
  /* Bumped whenever a participant's MediaStream changes. */
  mediaRev: number;
}

export type CallStore = Store<CallState>;

export function newCallStore(init: Pick<CallState, 'room' | 'name' | 'mic' | 'cam' | 'hasMic' | 'hasCam'>): CallStore {
  return createStore<CallState>({
    ...init,
    role: 'guest',
    roster: emptyRoster,
    conn: 'connecting',
    panel: 'none',
    mediaRev: 0,
  });
}
