/* session: signaling (WebSocket) and media (RTCPeerConnection) for one
 * meeting. The server offers, we answer; offers are handled one at a time.
 * The WebSocket reconnects with backoff and resumes the session while the
 * peer connection keeps carrying media. No rendering: state goes to the
 * store, events to the callbacks. */
import { backoffDelay } from '../lib/backoff';
import { deriveConnState, type SignalPhase } from '../lib/connstate';
import { classifyClosed, classifyError, errorText, errorTitle, Err } from '../lib/errors';
import { chatAppend, chatMarkFailed } from '../lib/chat';
import { lobbyApply, lobbyDrop, lobbyFromJoined } from '../lib/lobby';
import {
  candidateMsg,
  joinMsg,
  parseServerMessage,
  type ClientMsg,
  type HostMsg,
  type ServerMsg,
  type TrackInfo,
} from '../lib/protocol';
import { rosterApply, rosterFromJoined, rosterSetSelfMedia } from '../lib/roster';
import { noSpeaker, pickSpeaker, type SpeakerState } from '../lib/speaker';
import { isPublishMid, publishDirection, tracksByParticipant, type RecvSlot } from '../lib/tracks';
import type { CallStore } from './state';

export interface SessionEvents {
  /* The call cannot go on (room gone, bad credential, ...). */
  onFatal(title: string, text: string, code: number): void;
  /* The server ended our session with closed{code, reason}. */
  onClosed(code: number, reason: string): void;
  onToast(text: string): void;
  /* A host denied our request to join. */
  onDenied(): void;
  /* The server issued our guest credential (keep it for this room). */
  onCredential(token: string): void;
}

export interface SessionOptions {
  room: string;
  name: string;
  token: string | null;
  stream: MediaStream | null;
  store: CallStore;
  events: SessionEvents;
  /* Overridable for tests. */
  wsUrl?: string;
}

const PING_MS = 15000;
const SILENCE_MS = 45000;
const LEVEL_MS = 400;
const SIZE_MS = 1000;
/* Simulcast encodings the server asks for (a=simulcast:recv q;h;f), lowest
 * first: each a quarter of the pixels of the next. */
const SCALE_DOWN = [4, 2, 1];

const HOST_TYPES = new Set(['admit', 'deny', 'admit_all', 'set_lobby', 'mute', 'ask_unmute', 'remove', 'promote', 'end']);

export class Session {
  private ws: WebSocket | null = null;
  private pc: RTCPeerConnection | null = null;
  private phase: SignalPhase = 'connecting';
  private joinedOnce = false;
  private failed = false;
  private ended = false;
  private resume: string | null = null;
  private attempt = 0;
  private retryTimer: number | undefined;
  private pingTimer: number | undefined;
  private lastRx = 0;
  private offerChain: Promise<void> = Promise.resolve();
  private trackMap: TrackInfo[] = [];
  private streamIds = new Map<string, string>(); /* mid -> msid from ontrack */
  private remote = new Map<string, MediaStream>();
  private outbox: ClientMsg[] = []; /* candidates gathered while signaling was down */
  private answeredSdp: string | null = null;
  private screen: MediaStream | null = null;
  /* The "chat" data channel (we open it once the server's offer has an
   * m=application); chat goes over the WebSocket until it is open. */
  private dc: RTCDataChannel | null = null;
  private levelTimer: number | undefined;
  private speakerState: SpeakerState = noSpeaker;
  /* Set once the server sends active_speaker itself: stop measuring. */
  private serverSpeaker = false;
  private sizeTimer: number | undefined;
  /* participant -> "WxH" last reported with video_size. */
  private sizes = new Map<string, string>();
  /* Dynacast: which of our encodings the server wants sent (null: all). */
  private layerActive: boolean[] | null = null;
  private readonly o: SessionOptions;

  constructor(o: SessionOptions) {
    this.o = o;
  }

  start(): void {
    this.pingTimer = window.setInterval(() => this.tick(), PING_MS);
    this.levelTimer = window.setInterval(() => void this.measureLevels(), LEVEL_MS);
    this.sizeTimer = window.setInterval(() => this.reportSizes(), SIZE_MS);
    this.connect();
  }

  /* The MediaStream to show for a participant (self: the local stream, or
   * the screen while presenting). */
  streamFor(id: string): MediaStream | null {
    if (id === this.o.store.get().roster.self) return this.screen ?? this.o.stream;
    return this.remote.get(id) ?? null;
  }

  /* A host or cohost action; the server checks the role. */
  host(m: HostMsg): void {
    if (this.phase !== 'joined') return;
    this.send(m);
    const st = this.o.store.get();
    if (m.type === 'admit' || m.type === 'deny') this.o.store.set({ lobby: lobbyDrop(st.lobby, m.participant) });
    else if (m.type === 'admit_all') this.o.store.set({ lobby: lobbyDrop(st.lobby, null) });
    else if (m.type === 'set_lobby') this.o.store.set({ lobby: { ...st.lobby, enabled: m.enabled } });
  }

  /* Sends a chat message; false when it could not be sent now. */
  sendChat(text: string): boolean {
    const st = this.o.store.get();
    if (this.phase !== 'joined' || !st.chatAvailable) return false;
    const msg: ClientMsg = { v: 1, type: 'chat', text };
    if (this.dc?.readyState === 'open') this.dc.send(JSON.stringify(msg));
    else this.send(msg);
    this.o.store.set({
      chat: chatAppend(st.chat, { from: st.roster.self ?? '', name: st.name, text, ts: Date.now(), self: true }),
    });
    return true;
  }

  /* Screen sharing: the screen replaces the camera on our video m-line
   * (mid 1), so every server that forwards our camera forwards it. */
  async startShare(): Promise<void> {
    const md = navigator.mediaDevices;
    if (this.screen || !md?.getDisplayMedia) return;
    const screen = await md.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    if (this.ended) {
      screen.getTracks().forEach((t) => t.stop());
      return;
    }
    const track = screen.getVideoTracks()[0];
    if (!track) return;
    track.contentHint = 'detail';
    track.addEventListener('ended', () => void this.stopShare());
    this.screen = screen;
    await this.videoSender()?.replaceTrack(track);
    const st = this.o.store.get();
    this.o.store.set({ presenting: true, mediaRev: st.mediaRev + 1 });
    this.sendMediaState();
  }

  async stopShare(): Promise<void> {
    const screen = this.screen;
    if (!screen) return;
    this.screen = null;
    screen.getTracks().forEach((t) => t.stop());
    await this.videoSender()?.replaceTrack(this.o.stream?.getVideoTracks()[0] ?? null).catch(() => undefined);
    const st = this.o.store.get();
    this.o.store.set({ presenting: false, mediaRev: st.mediaRev + 1 });
    this.sendMediaState();
  }

  private videoSender(): RTCRtpSender | null {
    const tr = this.pc?.getTransceivers().find((t) => isPublishMid(t.mid) && t.receiver.track.kind === 'video');
    return tr ? tr.sender : null;
  }

  /* What we publish on the video m-line: the screen while presenting. */
  private localVideo(): MediaStreamTrack | null {
    return this.screen?.getVideoTracks()[0] ?? this.o.stream?.getVideoTracks()[0] ?? null;
  }

  private sendMediaState(): void {
    const st = this.o.store.get();
    /* Presenting counts as video on: the others' tile shows the screen. */
    if (this.phase === 'joined')
      this.send({ v: 1, type: 'media_state', audio: st.mic, video: st.cam || st.presenting, screen: st.presenting });
  }

  setMic(on: boolean): void {
    this.setMedia(on, this.o.store.get().cam);
  }

  setCam(on: boolean): void {
    this.setMedia(this.o.store.get().mic, on);
  }

  /* Leaves for good: tells the server, closes everything. */
  leave(): void {
    if (this.ended) return;
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ v: 1, type: 'leave' }));
    this.teardown();
  }

  private setMedia(audio: boolean, video: boolean): void {
    const s = this.o.stream;
    const st = this.o.store.get();
    audio = audio && st.hasMic;
    video = video && st.hasCam;
    s?.getAudioTracks().forEach((t) => (t.enabled = audio));
    s?.getVideoTracks().forEach((t) => (t.enabled = video));
    /* Turning the device on answers a host's request to. */
    const ask = (st.ask === 'audio' && audio) || (st.ask === 'video' && video) ? null : st.ask;
    this.o.store.set({ mic: audio, cam: video, ask, roster: rosterSetSelfMedia(st.roster, audio, video) });
    this.sendMediaState();
  }

  private url(): string {
    if (this.o.wsUrl) return this.o.wsUrl;
    return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  }

  private updateConn(): void {
    const pcState = this.pc ? this.pc.connectionState : 'none';
    if (pcState === 'connected') this.failed = false;
    this.o.store.set({ conn: deriveConnState(this.phase, pcState, this.failed) });
  }

  private connect(): void {
    if (this.ended) return;
    window.clearTimeout(this.retryTimer);
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.lastRx = Date.now();
      const o = this.o;
      ws.send(JSON.stringify(joinMsg(o.room, o.name, o.token, this.resume)));
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws || typeof e.data !== 'string') return;
      this.lastRx = Date.now();
      const m = parseServerMessage(e.data);
      if (m) this.handle(m);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.scheduleReconnect();
    };
  }

  /* Drops the current WebSocket without triggering its handlers. */
  private dropWs(): void {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      ws.close(1000);
    } catch {
      /* already closing */
    }
  }

  private scheduleReconnect(): void {
    if (this.ended) return;
    this.dropWs();
    this.phase = this.joinedOnce ? 'reconnecting' : 'connecting';
    this.updateConn();
    const delay = backoffDelay(this.attempt++);
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  /* Every 15 s: ping, and treat a server silent for 45 s as gone. */
  private tick(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastRx > SILENCE_MS) {
      this.scheduleReconnect();
      return;
    }
    ws.send(JSON.stringify({ v: 1, type: 'ping' }));
  }

  private send(m: ClientMsg): void {
    const ws = this.ws;
    /* An unsent answer is not kept: on resume the server sends its
     * unanswered offer again. Candidates are kept and sent after resume. */
    if (ws && ws.readyState === WebSocket.OPEN && this.phase === 'joined') ws.send(JSON.stringify(m));
    else if (m.type === 'candidate') this.outbox.push(m);
  }

  private handle(m: ServerMsg): void {
    const store = this.o.store;
    switch (m.type) {
      case 'joined': {
        const st = store.get();
        this.phase = 'joined';
        this.joinedOnce = true;
        this.attempt = 0;
        this.resume = m.resume || null;
        store.set({
          role: m.role,
          phase: 'call',
          roster: rosterFromJoined(m, this.o.name, st.mic, st.cam),
          lobby: lobbyFromJoined(st.lobby, m),
        });
        if (!this.pc) this.newPc();
        const out = this.outbox;
        this.outbox = [];
        for (const x of out) this.send(x);
        this.sendMediaState();
        this.updateConn();
        break;
      }
      case 'credential':
        this.o.token = m.token;
        this.o.events.onCredential(m.token);
        break;
      case 'lobby_waiting':
        /* Our place in the lobby: a dropped WebSocket resumes it. */
        this.attempt = 0;
        if (m.resume) this.resume = m.resume;
        store.set({ phase: 'lobby' });
        break;
      case 'lobby_denied':
        this.teardown();
        this.o.events.onDenied();
        break;
      case 'lobby_request':
      case 'lobby_left':
      case 'room_updated':
        store.set({ lobby: lobbyApply(store.get().lobby, m) });
        break;
      case 'muted':
        if (m.kind === 'audio' && store.get().mic) {
          this.setMic(false);
          this.o.events.onToast('A host muted your microphone. Only you can turn it back on.');
        } else if (m.kind === 'video' && store.get().cam) {
          this.setCam(false);
          this.o.events.onToast('A host turned off your camera. Only you can turn it back on.');
        }
        break;
      case 'unmute_request':
        store.set({ ask: m.kind });
        break;
      case 'chat': {
        const st = store.get();
        const self = m.from !== '' && m.from === st.roster.self;
        store.set({
          chat: chatAppend(st.chat, { from: m.from, name: m.name, text: m.text, ts: m.ts, self }),
          unread: st.panel === 'chat' || self ? st.unread : st.unread + 1,
        });
        break;
      }
      case 'active_speaker':
        this.serverSpeaker = true;
        store.set({ speaker: m.participant });
        break;
      case 'layers':
        this.layerActive = m.active;
        void this.tuneEncodings();
        break;
      case 'offer': {
        const pc = this.pc ?? this.newPc();
        this.offerChain = this.offerChain
          .then(() => this.answer(pc, m))
          .catch((err) => {
            console.error('offer failed', err);
            if (pc === this.pc) this.o.events.onToast("Couldn't set up media with the server.");
          });
        break;
      }
      case 'participant_joined':
      case 'participant_updated':
      case 'participant_left': {
        const st = store.get();
        /* Promoted to cohost (or back): our own role comes this way. */
        const role = m.type === 'participant_updated' && m.participant.id === st.roster.self ? m.participant.role : undefined;
        store.set({ roster: rosterApply(st.roster, m), ...(role ? { role } : {}) });
        this.syncRemote();
        break;
      }
      case 'error':
        this.onError(m.code, m.message, m.ref);
        break;
      case 'closed':
        if (classifyClosed(m.code) === 'rejoin') {
          /* The media server stopped or lost our media: a new session. */
          this.o.events.onToast('Connection lost. Rejoining…');
          this.freshJoin();
        } else {
          this.teardown();
          this.o.events.onClosed(m.code, m.reason);
        }
        break;
      case 'pong':
        break;
    }
  }

  private onError(code: number, message: string, ref?: string): void {
    if (ref === 'chat') {
      if (code === Err.UNKNOWN_TYPE) store_chatOff(this.o.store);
      else {
        this.o.events.onToast("Your message wasn't sent: " + errorText(code, message));
        this.o.store.set({ chat: chatMarkFailed(this.o.store.get().chat) });
      }
      return;
    }
    if (ref && HOST_TYPES.has(ref) && code === Err.UNKNOWN_TYPE) {
      this.o.events.onToast("This server doesn't support that yet.");
      return;
    }
    if (ref && HOST_TYPES.has(ref) && code === Err.PARTICIPANT_NOT_FOUND) {
      this.o.events.onToast('That person is no longer here.');
      return;
    }
    switch (classifyError(code, ref)) {
      case 'fatal':
        this.teardown();
        this.o.events.onFatal(errorTitle(code), errorText(code, message), code);
        break;
      case 'fresh-join':
        this.freshJoin();
        break;
      case 'retry':
        this.o.events.onToast(errorText(code, message));
        this.scheduleReconnect();
        break;
      case 'toast':
        if (code !== Err.BAD_CANDIDATE) this.o.events.onToast(errorText(code, message));
        break;
    }
  }

  /* The old session is gone (or its media failed): new pc, join without resume. */
  private freshJoin(): void {
    if (this.ended) return;
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN && this.phase === 'joined')
      ws.send(JSON.stringify({ v: 1, type: 'leave' }));
    this.closePc();
    this.resume = null;
    this.outbox = [];
    this.scheduleReconnect();
  }

  private newPc(): RTCPeerConnection {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.pc = pc;
    this.trackMap = [];
    this.answeredSdp = null;
    this.streamIds.clear();
    this.offerChain = Promise.resolve();
    pc.onicecandidate = (e) => {
      if (pc !== this.pc) return;
      const c = e.candidate;
      if (c && !c.candidate) return; /* an end-of-generation marker; the null event follows */
      this.send(candidateMsg(c ? { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } : null));
    };
    pc.ontrack = (e) => {
      if (pc !== this.pc) return;
      const mid = e.transceiver.mid;
      if (mid !== null && e.streams[0]) this.streamIds.set(mid, e.streams[0].id);
      queueMicrotask(() => this.syncRemote());
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      if (pc.connectionState === 'failed') {
        this.failed = true;
        this.updateConn();
        this.o.events.onToast('Media connection lost. Reconnecting…');
        window.setTimeout(() => {
          if (pc === this.pc && !this.ended) this.freshJoin();
        }, 1000);
        return;
      }
      this.updateConn();
    };
    return pc;
  }

  /* Opens the reliable, ordered "chat" channel; the server relays chat{} on
   * it and answers errors on it (docs/protocol.md "Chat"). */
  private openChat(pc: RTCPeerConnection): void {
    const dc = pc.createDataChannel('chat', { ordered: true });
    this.dc = dc;
    dc.onmessage = (e) => {
      if (this.dc !== dc || typeof e.data !== 'string') return;
      const m = parseServerMessage(e.data);
      if (m && (m.type === 'chat' || m.type === 'error')) this.handle(m);
    };
    dc.onclose = () => {
      if (this.dc === dc) this.dc = null;
    };
  }

  private closePc(): void {
    const pc = this.pc;
    this.pc = null;
    if (this.dc) this.dc.onmessage = this.dc.onclose = null;
    this.dc = null;
    if (pc) {
      pc.onicecandidate = pc.ontrack = pc.onconnectionstatechange = null;
      pc.close();
    }
    this.remote.clear();
    this.sizes.clear();
    this.layerActive = null;
    this.bumpMedia();
  }

  private async answer(pc: RTCPeerConnection, m: Extract<ServerMsg, { type: 'offer' }>): Promise<void> {
    if (pc !== this.pc) return;
    if (m.sdp === this.answeredSdp && pc.signalingState === 'stable' && pc.localDescription) {
      /* The same offer again (re-sent after a resume): our answer was lost. */
      this.send({ v: 1, type: 'answer', sdp: pc.localDescription.sdp });
      return;
    }
    await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
    if (!this.dc && /(^|\n)m=application /.test(m.sdp)) this.openChat(pc);
    this.trackMap = m.tracks;
    const s = this.o.stream;
    for (const tr of pc.getTransceivers()) {
      if (!isPublishMid(tr.mid) || tr.currentDirection === 'stopped') continue;
      const kind = tr.receiver.track.kind;
      const track = (kind === 'audio' ? s?.getAudioTracks()[0] : this.localVideo()) ?? null;
      if (tr.sender.track !== track) await tr.sender.replaceTrack(track);
      if (track && s) tr.sender.setStreams?.(s);
      tr.direction = publishDirection(track !== null);
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (pc !== this.pc || !pc.localDescription) return;
    this.answeredSdp = m.sdp;
    this.send({ v: 1, type: 'answer', sdp: pc.localDescription.sdp });
    this.syncRemote();
    await this.tuneEncodings();
  }

  /* Our video sender's simulcast encodings (the server's offer asked for
   * them): explicit scale-down per layer, lowest first, and the server's
   * dynacast choice of which to send. No-op with a single encoding. */
  private async tuneEncodings(): Promise<void> {
    const sender = this.videoSender();
    if (!sender) return;
    const p = sender.getParameters();
    const enc = p.encodings ?? [];
    if (enc.length < 2) return;
    let changed = false;
    enc.forEach((e, i) => {
      const scale = SCALE_DOWN[SCALE_DOWN.length - enc.length + i] ?? 1;
      if (e.scaleResolutionDownBy !== scale) {
        e.scaleResolutionDownBy = scale;
        changed = true;
      }
      const want = this.layerActive?.[i] ?? true;
      if (e.active !== want) {
        e.active = want;
        changed = true;
      }
    });
    if (!changed) return;
    try {
      await sender.setParameters(p);
    } catch (err) {
      console.warn('setParameters failed', err);
    }
  }

  /* Tells the server the size (device pixels) each participant's video is
   * shown at, when it changes, so it forwards the simulcast layer that
   * fits. A tile not on screen reports 0x0. */
  private reportSizes(): void {
    if (this.phase !== 'joined' || !this.pc) return;
    const dpr = window.devicePixelRatio || 1;
    const videos = Array.from(document.querySelectorAll('video'));
    for (const [id, stream] of this.remote) {
      let w = 0;
      let h = 0;
      for (const v of videos) {
        if (v.srcObject !== stream) continue;
        const box = (v.closest('[data-testid="tile"]') as HTMLElement | null) ?? v;
        w = Math.max(w, Math.round(box.clientWidth * dpr));
        h = Math.max(h, Math.round(box.clientHeight * dpr));
      }
      if (document.visibilityState === 'hidden') w = h = 0;
      const key = `${w}x${h}`;
      if (this.sizes.get(id) === key) continue;
      this.sizes.set(id, key);
      this.send({ v: 1, type: 'video_size', participant: id, width: w, height: h });
    }
    for (const id of this.sizes.keys()) if (!this.remote.has(id)) this.sizes.delete(id);
  }

  /* Rebuilds each participant's MediaStream from the transceivers. A new
   * MediaStream object is made when its tracks change, so video elements
   * pick the change up reliably. */
  private syncRemote(): void {
    const pc = this.pc;
    if (!pc) return;
    const slots: RecvSlot<MediaStreamTrack>[] = pc.getTransceivers().map((tr) => ({
      mid: tr.mid,
      direction: tr.currentDirection,
      track: tr.receiver.track,
      streamId: tr.mid !== null ? this.streamIds.get(tr.mid) : undefined,
    }));
    const want = tracksByParticipant(this.trackMap, slots);
    const present = new Set(this.o.store.get().roster.list.map((p) => p.id));
    let changed = false;
    for (const [id, stream] of this.remote) {
      const tracks = want.get(id);
      if (!tracks || !present.has(id)) {
        this.remote.delete(id);
        changed = true;
        continue;
      }
      const have = stream.getTracks();
      if (have.length !== tracks.length || tracks.some((t) => !have.includes(t))) {
        this.remote.set(id, new MediaStream(tracks));
        changed = true;
      }
    }
    for (const [id, tracks] of want) {
      if (!this.remote.has(id) && present.has(id)) {
        this.remote.set(id, new MediaStream(tracks));
        changed = true;
      }
    }
    if (changed) this.bumpMedia();
  }

  private bumpMedia(): void {
    const st = this.o.store.get();
    this.o.store.set({ mediaRev: st.mediaRev + 1 });
  }

  /* Active speaker from audio levels: each inbound audio m-line's
   * audioLevel (mapped to its participant) and our own microphone's. */
  private async measureLevels(): Promise<void> {
    const pc = this.pc;
    if (!pc || this.serverSpeaker || this.phase !== 'joined' || pc.connectionState !== 'connected') return;
    let stats: RTCStatsReport;
    try {
      stats = await pc.getStats();
    } catch {
      return;
    }
    if (pc !== this.pc) return;
    const st = this.o.store.get();
    const byMid = new Map(this.trackMap.map((t) => [t.mid, t.participant]));
    const levels = new Map<string, number>();
    stats.forEach((r: Record<string, unknown>) => {
      if (typeof r.audioLevel !== 'number' || r.kind !== 'audio') return;
      if (r.type === 'inbound-rtp' && typeof r.mid === 'string') {
        const who = byMid.get(r.mid);
        if (who) levels.set(who, Math.max(levels.get(who) ?? 0, r.audioLevel));
      } else if (r.type === 'media-source' && st.mic && st.roster.self) {
        levels.set(st.roster.self, r.audioLevel);
      }
    });
    for (const p of st.roster.list) if (!p.audio && p.id !== st.roster.self) levels.delete(p.id);
    this.speakerState = pickSpeaker(this.speakerState, levels, Date.now());
    if (this.speakerState.id !== st.speaker) this.o.store.set({ speaker: this.speakerState.id });
  }

  private teardown(): void {
    this.ended = true;
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.pingTimer);
    window.clearInterval(this.levelTimer);
    window.clearInterval(this.sizeTimer);
    this.screen?.getTracks().forEach((t) => t.stop());
    this.screen = null;
    this.dropWs();
    this.closePc();
  }
}

function store_chatOff(store: CallStore): void {
  const st = store.get();
  store.set({ chatAvailable: false, chat: chatMarkFailed(st.chat) });
}
