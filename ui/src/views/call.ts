/* call: the in-call screen: tile grid, control bar, people panel. It renders
 * from the call store and asks the session for streams; it never talks to
 * the server itself. */
import type { ConnState } from '../lib/connstate';
import { fitGrid } from '../lib/grid';
import { initials, meetingLink } from '../lib/links';
import type { ParticipantInfo } from '../lib/protocol';
import type { CallState, CallStore } from '../call/state';
import { h, mount } from './dom';
import { icon } from './icons';
import { toast } from './toast';

export interface CallActions {
  setMic(on: boolean): void;
  setCam(on: boolean): void;
  leave(): void;
  streamFor(id: string): MediaStream | null;
}

const CONN_TEXT: Record<ConnState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  failed: 'Connection lost',
};

interface TileView {
  el: HTMLElement;
  video: HTMLVideoElement;
  avatar: HTMLElement;
  label: HTMLElement;
  micIcon: HTMLElement;
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

function ctrlButton(testid: string, cls = 'ctrl'): HTMLButtonElement {
  return h('button', { type: 'button', class: cls, 'data-testid': testid });
}

export function showCall(store: CallStore, act: CallActions): () => void {
  const tiles = new Map<string, TileView>();
  const grid = h('div', { class: 'grid', role: 'list', 'aria-label': 'Participants' });
  const list = h('ul', { class: 'people-list' });
  const peopleCount = h('span', { class: 'count-badge', 'aria-hidden': 'true' });
  const panelTitle = h('h2', { id: 'people-title' }, 'People');
  const closePanel = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close people panel' }, icon('close'));
  const copyBtn2 = h('button', { type: 'button', class: 'btn btn-outline btn-block' }, icon('copy'), h('span', null, 'Copy meeting link'));
  const panel = h(
    'aside',
    { class: 'panel', 'aria-labelledby': 'people-title', 'data-testid': 'participants-panel' },
    h('div', { class: 'panel-head' }, panelTitle, closePanel),
    copyBtn2,
    list,
  );
  const conn = h('div', { class: 'conn', 'data-testid': 'connection-state', role: 'status', 'aria-live': 'polite' });
  const clock = h('span', { class: 'clock' });
  const micBtn = ctrlButton('toggle-mic');
  const camBtn = ctrlButton('toggle-cam');
  const leaveBtn = h(
    'button',
    { type: 'button', class: 'ctrl ctrl-leave', 'data-testid': 'leave', 'aria-label': 'Leave call' },
    icon('callEnd'),
  );
  const peopleBtn = h(
    'button',
    { type: 'button', class: 'ctrl ctrl-flat', 'data-testid': 'toggle-participants', 'aria-label': 'Show everyone' },
    icon('people'),
    peopleCount,
  );
  const copyBtn = h(
    'button',
    { type: 'button', class: 'ctrl ctrl-flat', 'data-testid': 'copy-link', 'aria-label': 'Copy meeting link' },
    icon('copy'),
  );
  const stage = h('div', { class: 'stage' }, grid, panel);
  const view = h(
    'main',
    { class: 'call', 'data-testid': 'call' },
    stage,
    h(
      'footer',
      { class: 'controlbar' },
      h('div', { class: 'bar-left' }, clock, h('span', { class: 'sep', 'aria-hidden': 'true' }, '|'), h('span', { class: 'code' }, store.get().room), conn),
      h('div', { class: 'bar-center' }, micBtn, camBtn, leaveBtn),
      h('div', { class: 'bar-right' }, copyBtn, peopleBtn),
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
  leaveBtn.addEventListener('click', () => act.leave());
  const togglePanel = () => store.set({ panel: store.get().panel === 'people' ? 'none' : 'people' });
  peopleBtn.addEventListener('click', togglePanel);
  closePanel.addEventListener('click', () => {
    store.set({ panel: 'none' });
    peopleBtn.focus();
  });

  /* Keyboard: Ctrl/Cmd+D mic, Ctrl/Cmd+E camera (as in Meet). */
  const onKey = (e: KeyboardEvent) => {
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
    const video = h('video', { autoplay: true, playsinline: true, class: self ? 'mirror' : '' }) as HTMLVideoElement;
    if (self) video.muted = true;
    const avatar = h('div', { class: 'avatar', 'aria-hidden': 'true' });
    const micIcon = h('span', { class: 'tile-mic' });
    const label = h('span', { class: 'tile-name' });
    const el = h(
      'div',
      { class: 'tile', role: 'listitem', 'data-testid': 'tile', 'data-participant-id': p.id },
      video,
      h('div', { class: 'avatar-wrap' }, avatar),
      h('div', { class: 'tile-label' }, micIcon, label),
    );
    t = { el, video, avatar, label, micIcon, stream: null, key: '' };
    tiles.set(p.id, t);
    return t;
  }

  function renderTiles(s: CallState): void {
    const ids = new Set(s.roster.list.map((p) => p.id));
    for (const [id, t] of tiles) {
      if (!ids.has(id)) {
        t.video.srcObject = null;
        t.el.remove();
        tiles.delete(id);
      }
    }
    let prev: Element | null = null;
    for (const p of s.roster.list) {
      const self = p.id === s.roster.self;
      const t = tileFor(p, self);
      const audio = self ? s.mic : p.audio;
      const video = self ? s.cam : p.video;
      const key = `${p.name}|${audio}|${video}|${p.role}`;
      if (key !== t.key) {
        t.key = key;
        t.el.setAttribute('data-participant-name', p.name);
        t.el.setAttribute('aria-label', p.name + (self ? ' (You)' : ''));
        t.label.textContent = self ? p.name + ' (You)' : p.name;
        t.avatar.textContent = initials(p.name);
        t.el.classList.toggle('video-off', !video);
        t.el.classList.toggle('muted', !audio);
        t.micIcon.replaceChildren(audio ? '' : icon('micOff', 'icon small'));
        t.micIcon.setAttribute('aria-label', audio ? '' : 'Muted');
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
    layout();
  }

  function layout(): void {
    const n = tiles.size || 1;
    const r = grid.getBoundingClientRect();
    const narrow = r.width < 600;
    const fit = fitGrid(n, r.width - 16, r.height - 16, narrow && n <= 2 ? 3 / 4 : 16 / 9, 8);
    grid.style.setProperty('--cols', String(fit.cols));
    grid.style.setProperty('--tile-w', Math.floor(fit.tileW) + 'px');
    grid.style.setProperty('--tile-h', Math.floor(fit.tileH) + 'px');
  }

  function personRow(p: ParticipantInfo, s: CallState): HTMLElement {
    const self = p.id === s.roster.self;
    const audio = self ? s.mic : p.audio;
    const video = self ? s.cam : p.video;
    return h(
      'li',
      { class: 'person', 'data-testid': 'participant', 'data-participant-name': p.name, 'data-participant-id': p.id },
      h('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' }, initials(p.name)),
      h(
        'span',
        { class: 'person-name' },
        h('span', { class: 'name' }, p.name),
        self ? h('span', { class: 'you' }, ' (You)') : null,
        p.role === 'host' ? h('span', { class: 'badge', 'data-testid': 'role-host' }, 'Host') : null,
      ),
      h(
        'span',
        { class: 'person-state' },
        h('span', { class: 'state-icon' + (audio ? '' : ' off'), role: 'img', 'aria-label': audio ? 'Microphone on' : 'Microphone off' }, icon(audio ? 'mic' : 'micOff', 'icon small')),
        h('span', { class: 'state-icon' + (video ? '' : ' off'), role: 'img', 'aria-label': video ? 'Camera on' : 'Camera off' }, icon(video ? 'cam' : 'camOff', 'icon small')),
      ),
    );
  }

  function render(s: CallState, prev: CallState | null): void {
    if (!prev || s.roster !== prev.roster || s.mediaRev !== prev.mediaRev || s.mic !== prev.mic || s.cam !== prev.cam) {
      renderTiles(s);
      list.replaceChildren(...s.roster.list.map((p) => personRow(p, s)));
      const n = s.roster.list.length;
      peopleCount.textContent = n ? String(n) : '';
      panelTitle.textContent = n ? `People (${n})` : 'People';
    }
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
    if (!prev || s.conn !== prev.conn) {
      conn.setAttribute('data-state', s.conn);
      conn.textContent = CONN_TEXT[s.conn];
      view.classList.toggle('degraded', s.conn === 'reconnecting' || s.conn === 'failed');
    }
    if (!prev || s.panel !== prev.panel) {
      const open = s.panel === 'people';
      stage.classList.toggle('panel-open', open);
      panel.hidden = !open;
      peopleBtn.setAttribute('aria-pressed', String(open));
      peopleBtn.setAttribute('aria-expanded', String(open));
      requestAnimationFrame(layout);
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
