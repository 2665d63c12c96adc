/* call: the in-call screen: tile grid, control bar, side panel (people or
 * chat), the lobby card for hosts. It renders from the call store and asks
 * the session for streams; it never talks to the server itself. */
import type { ConnState } from '../lib/connstate';
import { chatTime, checkChat } from '../lib/chat';
import { fitGrid } from '../lib/grid';
import { initials, meetingLink } from '../lib/links';
import { knockText } from '../lib/lobby';
import { isHostRole, type HostMsg, type ParticipantInfo } from '../lib/protocol';
import type { CallState, CallStore, Panel } from '../call/state';
import { h, mount } from './dom';
import { icon } from './icons';
import { toast } from './toast';

export interface CallActions {
  setMic(on: boolean): void;
  setCam(on: boolean): void;
  leave(): void;
  streamFor(id: string): MediaStream | null;
  host(m: HostMsg): void;
  sendChat(text: string): boolean;
  startShare(): Promise<void>;
  stopShare(): Promise<void>;
}

const CONN_TEXT: Record<ConnState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Connection lost. Reconnecting…',
  failed: 'Connection lost. Trying to rejoin…',
};

interface TileView {
  el: HTMLElement;
  video: HTMLVideoElement;
  avatar: HTMLElement;
  label: HTMLElement;
  micIcon: HTMLElement;
  camIcon: HTMLElement;
  stream: MediaStream | null;
  key: string;
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h('textarea', { class: 'sr-only', readonly: true });
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

/* A short two-note chime when someone knocks (no audio file to fetch). */
let audioCtx: AudioContext | null = null;
function chime(): void {
  try {
    audioCtx ??= new AudioContext();
    const ctx = audioCtx;
    const t = ctx.currentTime;
    for (const [i, f] of [660, 880].entries()) {
      const o = ctx.createOscillator();
      const g = ctx.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, t + i * 0.15);
      g.gain.exponentialRampToValueAtTime(0.15, t + i * 0.15 + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.15 + 0.25);
      o.connect(g).connect(ctx.destination);
      o.start(t + i * 0.15);
      o.stop(t + i * 0.15 + 0.3);
    }
  } catch {
    /* no audio output: the visual cue remains */
  }
}

function ctrlButton(testid: string, label: string, cls = 'ctrl'): HTMLButtonElement {
  return h('button', { type: 'button', class: cls, 'data-testid': testid, 'aria-label': label, title: label });
}

function smallBtn(testid: string, label: string, ic: Parameters<typeof icon>[0], onClick: () => void): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'icon-btn', 'data-testid': testid, 'aria-label': label, title: label }, icon(ic, 'icon small'));
  b.addEventListener('click', onClick);
  return b;
}

export function showCall(store: CallStore, act: CallActions): () => void {
  const tiles = new Map<string, TileView>();
  const grid = h('div', { class: 'grid', role: 'list', 'aria-label': 'Participants' });

  /* Side panel: people or chat. */
  const list = h('ul', { class: 'people-list', 'aria-label': 'In the meeting' });
  const peopleCount = h('span', { class: 'count-badge', 'aria-hidden': 'true' });
  const chatBadge = h('span', { class: 'count-badge unread', 'aria-hidden': 'true' });
  const panelTitle = h('h2', { id: 'panel-title' }, 'People');
  const closePanel = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close panel' }, icon('close'));
  const copyBtn2 = h('button', { type: 'button', class: 'btn btn-outline btn-block' }, icon('copy'), h('span', null, 'Copy meeting link'));
  const lobbySwitch = h(
    'button',
    { type: 'button', class: 'switch', role: 'switch', 'data-testid': 'lobby-toggle', 'aria-labelledby': 'lobby-switch-label' },
    h('span', { class: 'switch-knob' }),
  );
  const hostBox = h(
    'div',
    { class: 'host-box' },
    h('span', { id: 'lobby-switch-label', class: 'host-box-label' }, 'Lobby: guests wait until a host lets them in'),
    lobbySwitch,
  );
  const peopleSection = h('section', { class: 'panel-section', 'data-testid': 'participants-panel' }, copyBtn2, hostBox, list);

  const chatList = h('ol', { class: 'chat-list', role: 'log', 'aria-live': 'polite', 'aria-label': 'Chat messages' });
  const chatInput = h('input', {
    type: 'text',
    class: 'input chat-input',
    maxlength: 2000,
    placeholder: 'Send a message',
    'aria-label': 'Message to everyone',
    'data-testid': 'chat-input',
    autocomplete: 'off',
  });
  const chatSend = h('button', { type: 'submit', class: 'icon-btn chat-send', 'data-testid': 'chat-send', 'aria-label': 'Send message' }, icon('send'));
  const chatNote = h('p', { class: 'chat-note', 'data-testid': 'chat-unavailable', role: 'status' });
  const chatForm = h('form', { class: 'chat-form' }, chatInput, chatSend);
  const chatSection = h(
    'section',
    { class: 'panel-section', 'data-testid': 'chat-panel' },
    h('p', { class: 'muted small chat-hint' }, 'Messages can only be seen by people in the call and are gone when the call ends.'),
    chatList,
    chatNote,
    chatForm,
  );
  const panel = h(
    'aside',
    { class: 'panel', 'aria-labelledby': 'panel-title' },
    h('div', { class: 'panel-head' }, panelTitle, closePanel),
    peopleSection,
    chatSection,
  );

  /* The lobby card: hosts see who knocks, live. */
  const lobbyTitle = h('h2', { id: 'lobby-title' });
  const lobbyList = h('ul', { class: 'lobby-list' });
  const admitAll = h('button', { type: 'button', class: 'btn btn-text', 'data-testid': 'admit-all' }, 'Admit all');
  const lobbyCard = h(
    'section',
    { class: 'lobby-card', 'data-testid': 'lobby-panel', 'aria-labelledby': 'lobby-title', role: 'region' },
    h('div', { class: 'lobby-head' }, lobbyTitle),
    lobbyList,
    h('div', { class: 'lobby-actions' }, admitAll),
  );
  const lobbyLive = h('div', { class: 'sr-only', role: 'alert' });

  /* A host asked us to unmute. */
  const askText = h('p', null);
  const askYes = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'unmute-accept' }, 'Turn on');
  const askNo = h('button', { type: 'button', class: 'btn btn-text', 'data-testid': 'unmute-dismiss' }, 'Not now');
  const askCard = h('div', { class: 'ask-card', role: 'alertdialog', 'aria-label': 'Request from a host', 'data-testid': 'unmute-request' }, askText, h('div', { class: 'ask-actions' }, askNo, askYes));

  const conn = h('div', { class: 'conn', 'data-testid': 'connection-state', role: 'status', 'aria-live': 'polite' });
  const clock = h('span', { class: 'clock' });
  const micBtn = ctrlButton('toggle-mic', 'Microphone');
  const camBtn = ctrlButton('toggle-cam', 'Camera');
  const shareBtn = ctrlButton('toggle-screen', 'Present your screen');
  shareBtn.appendChild(icon('share'));
  const canShare = !!navigator.mediaDevices?.getDisplayMedia;
  shareBtn.hidden = !canShare;
  const leaveBtn = h('button', { type: 'button', class: 'ctrl ctrl-leave', 'data-testid': 'leave', 'aria-label': 'Leave call', title: 'Leave call' }, icon('callEnd'));
  const endBtn = h(
    'button',
    { type: 'button', class: 'ctrl ctrl-end', 'data-testid': 'end-call', 'aria-label': 'End the meeting for everyone', title: 'End the meeting for everyone' },
    h('span', null, 'End'),
  );
  const peopleBtn = h(
    'button',
    { type: 'button', class: 'ctrl ctrl-flat', 'data-testid': 'toggle-participants', 'aria-label': 'Show everyone', title: 'Show everyone' },
    icon('people'),
    peopleCount,
  );
  const chatBtn = h(
    'button',
    { type: 'button', class: 'ctrl ctrl-flat', 'data-testid': 'toggle-chat', 'aria-label': 'Chat with everyone', title: 'Chat with everyone' },
    icon('chat'),
    chatBadge,
  );
  const copyBtn = h(
    'button',
    { type: 'button', class: 'ctrl ctrl-flat hide-narrow', 'data-testid': 'copy-link', 'aria-label': 'Copy meeting link', title: 'Copy meeting link' },
    icon('copy'),
  );
  const stage = h('div', { class: 'stage' }, grid, panel);
  const view = h(
    'main',
    { class: 'call', 'data-testid': 'call' },
    conn,
    stage,
    lobbyCard,
    askCard,
    lobbyLive,
    h(
      'footer',
      { class: 'controlbar' },
      h('div', { class: 'bar-left' }, clock, h('span', { class: 'sep', 'aria-hidden': 'true' }, '|'), h('span', { class: 'code' }, store.get().room)),
      h('div', { class: 'bar-center', role: 'toolbar', 'aria-label': 'Call controls' }, micBtn, camBtn, shareBtn, leaveBtn, endBtn),
      h('div', { class: 'bar-right' }, copyBtn, chatBtn, peopleBtn),
    ),
  );

  const copy = async () => {
    const ok = await copyText(meetingLink(location.origin, store.get().room));
    toast(ok ? 'Meeting link copied' : "Couldn't copy the link");
  };
  copyBtn.addEventListener('click', copy);
  copyBtn2.addEventListener('click', copy);
  micBtn.addEventListener('click', () => act.setMic(!store.get().mic));
  camBtn.addEventListener('click', () => act.setCam(!store.get().cam));
  shareBtn.addEventListener('click', () => {
    if (store.get().presenting) void act.stopShare();
    else
      act.startShare().catch((e: unknown) => {
        const name = e instanceof DOMException ? e.name : '';
        if (name !== 'NotAllowedError' && name !== 'AbortError') toast("Couldn't share your screen.");
      });
  });
  leaveBtn.addEventListener('click', () => act.leave());
  endBtn.addEventListener('click', () => act.host({ v: 1, type: 'end' }));
  const openPanel = (p: Panel) => store.set({ panel: store.get().panel === p ? 'none' : p, ...(p === 'chat' ? { unread: 0 } : {}) });
  peopleBtn.addEventListener('click', () => openPanel('people'));
  chatBtn.addEventListener('click', () => {
    openPanel('chat');
    if (store.get().panel === 'chat') chatInput.focus();
  });
  closePanel.addEventListener('click', () => {
    const was = store.get().panel;
    store.set({ panel: 'none' });
    (was === 'chat' ? chatBtn : peopleBtn).focus();
  });
  lobbySwitch.addEventListener('click', () => act.host({ v: 1, type: 'set_lobby', enabled: !store.get().lobby.enabled }));
  admitAll.addEventListener('click', () => act.host({ v: 1, type: 'admit_all' }));
  chatForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const c = checkChat(chatInput.value);
    if (!c.ok) {
      if (c.reason) toast(c.reason);
      return;
    }
    if (act.sendChat(c.text)) chatInput.value = '';
  });
  askYes.addEventListener('click', () => {
    const k = store.get().ask;
    store.set({ ask: null });
    if (k === 'audio') act.setMic(true);
    else if (k === 'video') act.setCam(true);
  });
  askNo.addEventListener('click', () => store.set({ ask: null }));

  /* Keyboard: Ctrl/Cmd+D mic, Ctrl/Cmd+E camera (as in Meet). */
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && store.get().panel !== 'none') {
      closePanel.click();
      return;
    }
    if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey) return;
    const k = e.key.toLowerCase();
    if (k === 'd') {
      e.preventDefault();
      act.setMic(!store.get().mic);
    } else if (k === 'e') {
      e.preventDefault();
      act.setCam(!store.get().cam);
    }
  };
  document.addEventListener('keydown', onKey);

  function tileFor(p: ParticipantInfo, self: boolean): TileView {
    let t = tiles.get(p.id);
    if (t) return t;
    const video = h('video', { autoplay: true, playsinline: true }) as HTMLVideoElement;
    if (self) video.muted = true;
    const avatar = h('div', { class: 'avatar', 'aria-hidden': 'true' });
    const micIcon = h('span', { class: 'tile-mic', role: 'img' });
    const camIcon = h('span', { class: 'tile-mic', role: 'img' });
    const label = h('span', { class: 'tile-name' });
    const el = h(
      'div',
      { class: 'tile', role: 'listitem', 'data-testid': 'tile', 'data-participant-id': p.id },
      video,
      h('div', { class: 'avatar-wrap' }, avatar),
      h('div', { class: 'tile-label' }, micIcon, camIcon, label),
    );
    t = { el, video, avatar, label, micIcon, camIcon, stream: null, key: '' };
    tiles.set(p.id, t);
    return t;
  }

  /* Who is shown large: someone presenting (server flag `screen`), or us. */
  function spotlightOf(s: CallState): string | null {
    if (s.presenting && s.roster.self) return s.roster.self;
    return s.roster.list.find((p) => p.screen && p.id !== s.roster.self)?.id ?? null;
  }
  let spot: string | null = null;

  function renderTiles(s: CallState): void {
    const ids = new Set(s.roster.list.map((p) => p.id));
    for (const [id, t] of tiles) {
      if (!ids.has(id)) {
        t.video.srcObject = null;
        t.el.remove();
        tiles.delete(id);
      }
    }
    spot = spotlightOf(s);
    let prev: Element | null = null;
    for (const p of s.roster.list) {
      const self = p.id === s.roster.self;
      const t = tileFor(p, self);
      const audio = self ? s.mic : p.audio;
      const presenting = self ? s.presenting : !!p.screen;
      const video = self ? s.cam || s.presenting : p.video;
      const key = `${p.name}|${audio}|${video}|${p.role}|${presenting}|${spot === p.id}`;
      if (key !== t.key) {
        t.key = key;
        t.el.setAttribute('data-participant-name', p.name);
        t.el.setAttribute('aria-label', p.name + (self ? ' (You)' : '') + (presenting ? ', presenting' : '') + (audio ? '' : ', muted') + (video ? '' : ', camera off'));
        t.label.textContent = (self ? p.name + ' (You)' : p.name) + (presenting ? ' is presenting' : '');
        t.avatar.textContent = initials(p.name);
        t.el.classList.toggle('video-off', !video);
        t.el.classList.toggle('muted', !audio);
        t.el.classList.toggle('presenting', presenting);
        t.el.classList.toggle('spotlight', spot === p.id);
        t.el.setAttribute('data-muted', String(!audio));
        t.el.setAttribute('data-camera-off', String(!video));
        t.video.classList.toggle('mirror', self && !s.presenting);
        t.micIcon.replaceChildren(audio ? '' : icon('micOff', 'icon small'));
        t.micIcon.setAttribute('aria-label', audio ? '' : 'Muted');
        t.camIcon.replaceChildren(video ? '' : icon('camOff', 'icon small'));
        t.camIcon.setAttribute('aria-label', video ? '' : 'Camera off');
      }
      const stream = act.streamFor(p.id);
      if (stream !== t.stream) {
        t.stream = stream;
        t.video.srcObject = stream;
        if (stream) t.video.play().catch(() => undefined);
      }
      t.el.classList.toggle('no-video', !stream || stream.getVideoTracks().length === 0);
      /* Keep DOM order = roster order without re-inserting unchanged tiles
       * (re-inserting a playing <video> can pause it). */
      const want: Element | null = prev ? prev.nextElementSibling : grid.firstElementChild;
      if (want !== t.el) grid.insertBefore(t.el, want);
      prev = t.el;
    }
    renderSpeaker(s);
    layout();
  }

  function renderSpeaker(s: CallState): void {
    for (const [id, t] of tiles) {
      const on = id === s.speaker && tiles.size > 1;
      t.el.classList.toggle('speaking', on);
      t.el.setAttribute('data-speaking', String(on));
    }
  }

  function layout(): void {
    const r = grid.getBoundingClientRect();
    const W = r.width - 16;
    const H = r.height - 16;
    const narrow = r.width < 600;
    grid.classList.toggle('spot-mode', spot !== null);
    if (spot !== null) {
      grid.classList.toggle('compact', true);
      /* The presenter on top, everyone else in a strip below. */
      const others = tiles.size - 1;
      const stripH = others ? Math.min(Math.max(H * 0.22, 72), 160) : 0;
      const fit = fitGrid(Math.max(1, others), W, stripH, 16 / 9, 8);
      const stripRows = others ? fit.rows : 0;
      const spotH = Math.max(120, H - (others ? stripRows * fit.tileH + stripRows * 8 : 0));
      grid.style.setProperty('--cols', String(others ? fit.cols : 1));
      grid.style.setProperty('--tile-w', Math.floor(fit.tileW) + 'px');
      grid.style.setProperty('--tile-h', Math.floor(fit.tileH) + 'px');
      grid.style.setProperty('--spot-h', Math.floor(spotH) + 'px');
      return;
    }
    const n = tiles.size || 1;
    const fit = fitGrid(n, W, H, narrow && n <= 2 ? 3 / 4 : 16 / 9, 8);
    grid.classList.toggle('compact', fit.tileH < 100);
    grid.style.setProperty('--cols', String(fit.cols));
    grid.style.setProperty('--tile-w', Math.floor(fit.tileW) + 'px');
    grid.style.setProperty('--tile-h', Math.floor(fit.tileH) + 'px');
  }

  function personRow(p: ParticipantInfo, s: CallState, amHost: boolean): HTMLElement {
    const self = p.id === s.roster.self;
    const audio = self ? s.mic : p.audio;
    const video = self ? s.cam || s.presenting : p.video;
    const controls: HTMLElement[] = [];
    if (amHost && !self) {
      const mute = smallBtn('mute-participant', `Mute ${p.name}`, 'micOff', () =>
        act.host({ v: 1, type: 'mute', participant: p.id, kind: 'audio' }),
      );
      if (!audio) {
        mute.setAttribute('aria-disabled', 'true');
        mute.title = `${p.name} is muted`;
        controls.push(
          smallBtn('ask-unmute', `Ask ${p.name} to unmute`, 'mic', () => {
            act.host({ v: 1, type: 'ask_unmute', participant: p.id, kind: 'audio' });
            toast(`Asked ${p.name} to unmute`);
          }),
        );
      }
      controls.unshift(mute);
      if (!isHostRole(p.role))
        controls.push(
          smallBtn('promote-participant', `Make ${p.name} a co-host`, 'star', () => act.host({ v: 1, type: 'promote', participant: p.id })),
        );
      controls.push(smallBtn('remove-participant', `Remove ${p.name} from the call`, 'personRemove', () => act.host({ v: 1, type: 'remove', participant: p.id })));
    }
    return h(
      'li',
      { class: 'person', 'data-testid': 'participant', 'data-participant-name': p.name, 'data-participant-id': p.id, 'data-muted': String(!audio) },
      h('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' }, initials(p.name)),
      h(
        'span',
        { class: 'person-name' },
        h('span', { class: 'name' }, p.name),
        self ? h('span', { class: 'you' }, ' (You)') : null,
        p.role === 'host' ? h('span', { class: 'badge', 'data-testid': 'role-host' }, 'Host') : null,
        p.role === 'cohost' ? h('span', { class: 'badge', 'data-testid': 'role-cohost' }, 'Co-host') : null,
      ),
      h(
        'span',
        { class: 'person-state' },
        h('span', { class: 'state-icon' + (audio ? '' : ' off'), role: 'img', 'aria-label': audio ? 'Microphone on' : 'Microphone off' }, icon(audio ? 'mic' : 'micOff', 'icon small')),
        h('span', { class: 'state-icon' + (video ? '' : ' off'), role: 'img', 'aria-label': video ? 'Camera on' : 'Camera off' }, icon(video ? 'cam' : 'camOff', 'icon small')),
      ),
      controls.length ? h('span', { class: 'person-actions' }, controls) : null,
    );
  }

  /* Re-rendering a list keeps keyboard focus on the same control. */
  function keepFocus(container: HTMLElement, fn: () => void): void {
    const a = document.activeElement as HTMLElement | null;
    const row = a && container.contains(a) ? a.closest('[data-participant-id]') : null;
    const rowId = row?.getAttribute('data-participant-id');
    const tid = a?.getAttribute('data-testid');
    fn();
    if (rowId && tid) {
      const again = container.querySelector<HTMLElement>(`[data-participant-id="${CSS.escape(rowId)}"] [data-testid="${tid}"]`);
      (again ?? container.querySelector<HTMLElement>('button'))?.focus();
    }
  }

  function renderLobby(s: CallState, prev: CallState | null): void {
    const amHost = isHostRole(s.role);
    const waiting = amHost ? s.lobby.waiting : [];
    lobbyCard.hidden = waiting.length === 0;
    lobbyTitle.textContent = knockText(waiting);
    admitAll.hidden = waiting.length < 2;
    admitAll.textContent = `Admit all (${waiting.length})`;
    keepFocus(lobbyList, () =>
      lobbyList.replaceChildren(
        ...waiting.map((e) =>
          h(
            'li',
            { class: 'lobby-row', 'data-testid': 'lobby-request', 'data-participant-name': e.name, 'data-participant-id': e.id, 'data-removed-before': String(e.removedBefore) },
            h('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' }, initials(e.name)),
            h(
              'span',
              { class: 'person-name' },
              h('span', { class: 'name' }, e.name),
              e.removedBefore ? h('span', { class: 'badge badge-warn', 'data-testid': 'removed-before' }, 'Removed earlier') : null,
            ),
            h('button', { type: 'button', class: 'btn btn-text', 'data-testid': 'deny', 'aria-label': `Deny ${e.name}`, onclick: () => act.host({ v: 1, type: 'deny', participant: e.id }) }, 'Deny'),
            h('button', { type: 'button', class: 'btn btn-text', 'data-testid': 'admit', 'aria-label': `Admit ${e.name}`, onclick: () => act.host({ v: 1, type: 'admit', participant: e.id }) }, 'Admit'),
          ),
        ),
      ),
    );
    /* The cue: a chime, a flash, a screen-reader announcement. */
    const before = new Set(prev && isHostRole(prev.role) ? prev.lobby.waiting.map((e) => e.id) : []);
    const fresh = waiting.filter((e) => !before.has(e.id));
    if (fresh.length && prev) {
      chime();
      lobbyCard.classList.remove('knock');
      void lobbyCard.offsetWidth;
      lobbyCard.classList.add('knock');
      lobbyLive.textContent = knockText(fresh) + (fresh.some((e) => e.removedBefore) ? ' (removed earlier)' : '');
    }
    hostBox.hidden = !amHost;
    lobbySwitch.setAttribute('aria-checked', String(s.lobby.enabled));
    endBtn.hidden = !amHost;
    peopleBtn.classList.toggle('attention', waiting.length > 0);
  }

  let chatShown = 0;
  function renderChat(s: CallState, prev: CallState | null): void {
    if (!prev || s.chat !== prev.chat) {
      const atBottom = chatList.scrollHeight - chatList.scrollTop - chatList.clientHeight < 40;
      if (s.chat.length < chatShown || (prev && prev.chat !== s.chat && s.chat.some((m, i) => prev.chat[i] && prev.chat[i] !== m))) {
        chatList.replaceChildren();
        chatShown = 0;
      }
      for (const m of s.chat.slice(chatShown)) {
        chatList.appendChild(
          h(
            'li',
            { class: 'chat-msg' + (m.self ? ' self' : '') + (m.failed ? ' failed' : ''), 'data-testid': 'chat-message', 'data-from-name': m.name },
            h('div', { class: 'chat-meta' }, h('span', { class: 'chat-name' }, m.self ? 'You' : m.name), ' ', h('time', null, chatTime(m.ts))),
            h('div', { class: 'chat-text' }, m.text),
            m.failed ? h('div', { class: 'chat-failed' }, 'Not sent') : null,
          ),
        );
      }
      chatShown = s.chat.length;
      if (atBottom) chatList.scrollTop = chatList.scrollHeight;
    }
    chatNote.hidden = s.chatAvailable;
    chatNote.textContent = s.chatAvailable ? '' : "Chat isn't available in this meeting: the server doesn't support it yet.";
    chatInput.disabled = !s.chatAvailable;
    chatSend.disabled = !s.chatAvailable;
    chatBadge.textContent = s.unread ? String(s.unread) : '';
  }

  function render(s: CallState, prev: CallState | null): void {
    const amHost = isHostRole(s.role);
    const rosterChanged = !prev || s.roster !== prev.roster || s.mediaRev !== prev.mediaRev || s.mic !== prev.mic || s.cam !== prev.cam || s.presenting !== prev.presenting;
    if (rosterChanged || s.role !== prev?.role) {
      renderTiles(s);
      keepFocus(list, () => list.replaceChildren(...s.roster.list.map((p) => personRow(p, s, amHost))));
      const n = s.roster.list.length;
      peopleCount.textContent = n ? String(n) : '';
    } else if (s.speaker !== prev.speaker) renderSpeaker(s);
    if (!prev || s.lobby !== prev.lobby || s.role !== prev.role) renderLobby(s, prev);
    if (!prev || s.chat !== prev.chat || s.chatAvailable !== prev.chatAvailable || s.unread !== prev.unread) renderChat(s, prev);
    if (!prev || s.mic !== prev.mic || s.hasMic !== prev.hasMic) {
      micBtn.replaceChildren(icon(s.mic ? 'mic' : 'micOff'));
      micBtn.setAttribute('aria-pressed', String(s.mic));
      micBtn.setAttribute('aria-label', !s.hasMic ? 'No microphone' : s.mic ? 'Turn off microphone' : 'Turn on microphone');
      micBtn.title = micBtn.getAttribute('aria-label')! + (s.hasMic ? ' (Ctrl+D)' : '');
      micBtn.classList.toggle('off', !s.mic);
      micBtn.disabled = !s.hasMic;
    }
    if (!prev || s.cam !== prev.cam || s.hasCam !== prev.hasCam) {
      camBtn.replaceChildren(icon(s.cam ? 'cam' : 'camOff'));
      camBtn.setAttribute('aria-pressed', String(s.cam));
      camBtn.setAttribute('aria-label', !s.hasCam ? 'No camera' : s.cam ? 'Turn off camera' : 'Turn on camera');
      camBtn.title = camBtn.getAttribute('aria-label')! + (s.hasCam ? ' (Ctrl+E)' : '');
      camBtn.classList.toggle('off', !s.cam);
      camBtn.disabled = !s.hasCam;
    }
    if (!prev || s.presenting !== prev.presenting || s.hasCam !== prev.hasCam) {
      shareBtn.setAttribute('aria-pressed', String(s.presenting));
      /* The screen goes out on the camera's m-line: no camera, no slot. */
      shareBtn.disabled = !s.hasCam;
      const label = !s.hasCam ? 'Presenting needs a camera slot (no camera found)' : s.presenting ? 'Stop presenting' : 'Present your screen';
      shareBtn.setAttribute('aria-label', label);
      shareBtn.title = label;
      shareBtn.classList.toggle('active', s.presenting);
    }
    if (!prev || s.conn !== prev.conn) {
      conn.setAttribute('data-state', s.conn);
      conn.textContent = CONN_TEXT[s.conn];
      view.classList.toggle('degraded', s.conn === 'reconnecting' || s.conn === 'failed');
    }
    if (!prev || s.panel !== prev.panel) {
      const open = s.panel !== 'none';
      stage.classList.toggle('panel-open', open);
      view.classList.toggle('panel-open', open);
      panel.hidden = !open;
      peopleSection.hidden = s.panel !== 'people';
      chatSection.hidden = s.panel !== 'chat';
      panelTitle.textContent = s.panel === 'chat' ? 'In-call messages' : 'People';
      for (const [b, p] of [[peopleBtn, 'people'], [chatBtn, 'chat']] as const) {
        b.setAttribute('aria-pressed', String(s.panel === p));
        b.setAttribute('aria-expanded', String(s.panel === p));
      }
      if (s.panel === 'chat' && s.unread) store.set({ unread: 0 });
      requestAnimationFrame(layout);
    }
    if (!prev || s.ask !== prev.ask) {
      askCard.hidden = s.ask === null;
      askText.textContent = s.ask === 'video' ? 'A host asks you to turn on your camera.' : 'A host asks you to unmute your microphone.';
      if (s.ask) askYes.focus();
    }
  }

  const tickClock = () => {
    clock.textContent = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  };
  tickClock();
  const clockTimer = window.setInterval(tickClock, 10000);

  mount(view);
  document.title = store.get().room + ' – Meet';
  const unsub = store.subscribe((s, prev) => render(s, prev));
  render(store.get(), null);
  const ro = new ResizeObserver(() => layout());
  ro.observe(grid);

  return () => {
    unsub();
    ro.disconnect();
    window.clearInterval(clockTimer);
    document.removeEventListener('keydown', onKey);
    for (const t of tiles.values()) t.video.srcObject = null;
  };
}
