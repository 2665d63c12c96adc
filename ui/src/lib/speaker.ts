/* speaker: who is the active speaker, from audio levels. Pure.
 * Levels are RTCStats audioLevel values (0..1, linear). A participant
 * becomes the speaker when loudest above THRESHOLD; the current speaker
 * keeps the highlight until someone else is clearly louder or they are
 * silent for HOLD_MS (no flicker between two people talking). A server
 * `active_speaker` message, when the server has it, replaces all this. */

export const THRESHOLD = 0.02;
export const HOLD_MS = 1200;
const SWITCH_RATIO = 1.5;

export interface SpeakerState {
  id: string | null;
  /* When the current speaker was last heard above the threshold. */
  lastLoud: number;
}

export const noSpeaker: SpeakerState = { id: null, lastLoud: 0 };

export function pickSpeaker(prev: SpeakerState, levels: Map<string, number>, now: number): SpeakerState {
  let best: string | null = null;
  let bestLevel = 0;
  for (const [id, l] of levels) {
    if (l >= THRESHOLD && l > bestLevel) {
      best = id;
      bestLevel = l;
    }
  }
  const cur = prev.id;
  const curLevel = cur !== null ? (levels.get(cur) ?? 0) : 0;
  const curLoud = cur !== null && curLevel >= THRESHOLD;
  if (best === null) {
    /* Silence: keep the highlight a moment, then drop it. */
    if (cur !== null && now - prev.lastLoud < HOLD_MS) return prev;
    return cur === null ? prev : noSpeaker;
  }
  if (best === cur) return { id: cur, lastLoud: now };
  if (curLoud && bestLevel < curLevel * SWITCH_RATIO) return { id: cur, lastLoud: now };
  return { id: best, lastLoud: now };
}
