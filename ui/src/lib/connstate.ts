/* connstate: the connection-state indicator's value. Pure. */

export type ConnState = 'connecting' | 'connected' | 'reconnecting' | 'failed';

/* phase: where signaling is. 'connecting' until the first joined,
 * 'joined' while the WebSocket is open and joined, 'reconnecting' after it
 * dropped until joined again. */
export type SignalPhase = 'connecting' | 'joined' | 'reconnecting';

export function deriveConnState(phase: SignalPhase, pcState: RTCPeerConnectionState | 'none', failed: boolean): ConnState {
  if (failed) return 'failed';
  if (phase === 'reconnecting') return 'reconnecting';
  if (phase === 'joined' && pcState === 'connected') return 'connected';
  return 'connecting';
}
