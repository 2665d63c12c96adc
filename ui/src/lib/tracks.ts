/* tracks: which transceiver carries what, from the offer's tracks map. Pure.
 * The server puts our own audio and video on mids "0" and "1"; every other
 * m-line carries one track of another participant. */
import type { TrackInfo } from './protocol';

export const PUBLISH_MIDS = ['0', '1'];

export function isPublishMid(mid: string | null): boolean {
  return mid !== null && PUBLISH_MIDS.includes(mid);
}

/* The direction we answer with on a publish m-line. */
export function publishDirection(haveTrack: boolean): RTCRtpTransceiverDirection {
  return haveTrack ? 'sendonly' : 'inactive';
}

export interface RecvSlot<T> {
  mid: string | null;
  /* currentDirection after the answer: 'recvonly' / 'sendrecv' carry media. */
  direction: string | null;
  track: T;
  /* msid stream id seen in ontrack, a fallback when the map lacks the mid. */
  streamId?: string;
}

/* Groups receiving tracks by participant. */
export function tracksByParticipant<T>(map: TrackInfo[], slots: RecvSlot<T>[]): Map<string, T[]> {
  const byMid = new Map(map.map((t) => [t.mid, t.participant]));
  const out = new Map<string, T[]>();
  for (const s of slots) {
    if (isPublishMid(s.mid) || s.mid === null) continue;
    if (s.direction !== 'recvonly' && s.direction !== 'sendrecv') continue;
    const who = byMid.get(s.mid) ?? s.streamId;
    if (!who) continue;
    const a = out.get(who);
    if (a) a.push(s.track);
    else out.set(who, [s.track]);
  }
  return out;
}
