/* prejoin: the room check, camera preview, name, and the join button. */
import { checkName } from '../lib/links';
import { h, mount } from './dom';
import { icon } from './icons';
import { showNotice } from './notice';

const NAME_KEY = 'vc.name';

export interface JoinChoice {
  name: string;
  stream: MediaStream | null;
  mic: boolean;
  cam: boolean;
}

export interface RoomInfo {
  room: string;
  lobby: boolean;
}

interface MediaResult {
  stream: MediaStream | null;
  problem: string | null;
}

/* Asks for camera and microphone; falls back to whichever one exists. */
async function getMedia(): Promise<MediaResult> {
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia)
    return { stream: null, problem: 'This page cannot use a camera or microphone here (it needs HTTPS). You can still join to watch and listen.' };
  const video: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } };
  const audio: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  try {
    return { stream: await md.getUserMedia({ audio, video }), problem: null };
  } catch (e) {
    const name = e instanceof DOMException ? e.name : '';
    if (name === 'NotAllowedError' || name === 'SecurityError')
      return {
        stream: null,
        problem: "You blocked the camera and microphone. To use them, allow access in your browser's address bar and reload. You can still join to watch and listen.",
      };
  }
  for (const c of [{ audio }, { video }] as MediaStreamConstraints[]) {
    try {
      const stream = await md.getUserMedia(c);
      return {
        stream,
        problem: c.audio ? 'No camera found. Others will hear you but not see you.' : 'No microphone found. Others will see you but not hear you.',
      };
    } catch {
      /* try the next one */
    }
  }
  return { stream: null, problem: 'No camera or microphone found, or they are in use by another app. You can still join to watch and listen.' };
}

export type RoomCheck = { ok: true; info: RoomInfo } | { ok: false; kind: 'not-found' | 'unreachable' | 'error' };

export async function checkRoom(room: string): Promise<RoomCheck> {
  let res: Response;
  try {
    res = await fetch('/api/rooms/' + encodeURIComponent(room), { headers: { Accept: 'application/json' } });
  } catch {
    return { ok: false, kind: 'unreachable' };
  }
  if (res.status === 404) return { ok: false, kind: 'not-found' };
  if (!res.ok) return { ok: false, kind: res.status >= 500 ? 'unreachable' : 'error' };
  let lobby = false;
  try {
    const j = (await res.json()) as { lobby?: unknown };
    lobby = j.lobby === true;
  } catch {
    /* an empty or odd body is fine */
  }
  return { ok: true, info: { room, lobby } };
}

export function showNotFound(): void {
  showNotice({
    title: 'Meeting not found',
    text: 'Check that you entered the right meeting code or link. The meeting may also have ended.',
    testid: 'meeting-not-found',
    warn: true,
    actions: [{ label: 'Return to home screen', href: '/', primary: true, testid: 'home' }],
  });
}

export function showUnreachable(retry: () => void): void {
  showNotice({
    title: "Can't reach the server",
    text: 'Check your internet connection and try again.',
    testid: 'server-unreachable',
    warn: true,
    actions: [
      { label: 'Try again', primary: true, testid: 'retry', onClick: retry },
      { label: 'Return to home screen', href: '/', testid: 'home' },
    ],
  });
}

function loadName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

function saveName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    /* private mode */
  }
}

export function stopStream(s: MediaStream | null): void {
  s?.getTracks().forEach((t) => t.stop());
}

/* Renders the pre-join screen; onJoin gets the choices. */
export function showPrejoin(info: RoomInfo, isHost: boolean, onJoin: (c: JoinChoice) => void): void {
  document.title = 'Join ' + info.room + ' – Meet';
  let mic = true;
  let cam = true;
  let media: MediaResult | null = null;
  let left = false;

  const video = h('video', { class: 'preview-video mirror', autoplay: true, playsinline: true }) as HTMLVideoElement;
  video.muted = true;
  const previewMsg = h('div', { class: 'preview-msg' }, 'Starting camera…');
  const devMsg = h('p', { class: 'device-msg', role: 'status', 'data-testid': 'device-message' });
  const levelBar = h('span', { class: 'level-bar' });
  const level = h(
    'div',
    { class: 'level', role: 'meter', 'aria-label': 'Microphone level', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0, 'data-testid': 'mic-level', 'data-level': 0 },
    levelBar,
  );
  const camSelect = h('select', { class: 'select', id: 'camera-select', 'data-testid': 'camera-select' });
  const micSelect = h('select', { class: 'select', id: 'mic-select', 'data-testid': 'mic-select' });
  const pickers = h(
    'div',
    { class: 'pickers' },
    h('label', { class: 'picker' }, h('span', { class: 'label' }, 'Microphone'), micSelect, level),
    h('label', { class: 'picker' }, h('span', { class: 'label' }, 'Camera'), camSelect),
  );
  let meter: { ctx: AudioContext; timer: number } | null = null;
  const stopMeter = () => {
    if (!meter) return;
    window.clearInterval(meter.timer);
    void meter.ctx.close().catch(() => undefined);
    meter = null;
  };
  /* The microphone level, from an AnalyserNode (peak of the waveform). */
  const startMeter = (stream: MediaStream | null) => {
    stopMeter();
    const track = stream?.getAudioTracks()[0];
    if (!track || typeof AudioContext === 'undefined') return;
    try {
      const ctx = new AudioContext();
      const an = ctx.createAnalyser();
      an.fftSize = 512;
      ctx.createMediaStreamSource(new MediaStream([track])).connect(an);
      const buf = new Float32Array(an.fftSize);
      let shown = 0;
      const timer = window.setInterval(() => {
        if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
        an.getFloatTimeDomainData(buf);
        let peak = 0;
        for (const v of buf) peak = Math.max(peak, Math.abs(v));
        /* -60 dBFS .. 0 dBFS -> 0..100, falling back slowly. */
        const now = peak > 0 ? Math.max(0, Math.min(100, ((20 * Math.log10(peak) + 60) / 60) * 100)) : 0;
        shown = track.enabled ? Math.round(Math.max(now, shown * 0.8)) : 0;
        const pct = shown;
        levelBar.style.width = pct + '%';
        level.setAttribute('aria-valuenow', String(pct));
        level.setAttribute('data-level', String(pct));
      }, 100);
      meter = { ctx, timer };
    } catch {
      /* no Web Audio: no meter */
    }
  };
  const resumeAudio = () => void meter?.ctx.resume().catch(() => undefined);
  document.addEventListener('pointerdown', resumeAudio, { capture: true });
  document.addEventListener('keydown', resumeAudio, { capture: true });

  async function fillPickers(): Promise<void> {
    let devs: MediaDeviceInfo[] = [];
    try {
      devs = (await navigator.mediaDevices?.enumerateDevices()) ?? [];
    } catch {
      devs = [];
    }
    const s = media?.stream ?? null;
    for (const [sel, kind, none] of [
      [micSelect, 'audioinput', 'No microphone found'],
      [camSelect, 'videoinput', 'No camera found'],
    ] as const) {
      const track = kind === 'audioinput' ? s?.getAudioTracks()[0] : s?.getVideoTracks()[0];
      const current = track?.getSettings().deviceId ?? '';
      const list = devs.filter((d) => d.kind === kind && d.deviceId !== '');
      sel.replaceChildren(
        ...(list.length && track
          ? list.map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === current }, d.label || `${kind === 'audioinput' ? 'Microphone' : 'Camera'} ${i + 1}`))
          : [h('option', { value: '' }, track ? (kind === 'audioinput' ? 'Default microphone' : 'Default camera') : none)]),
      );
      sel.disabled = !track || list.length < 2;
    }
  }

  /* Another device picked: swap that track inside the same stream. */
  async function switchDevice(kind: 'audio' | 'video', deviceId: string): Promise<void> {
    const s = media?.stream;
    if (!s || !deviceId) return;
    try {
      const got = await navigator.mediaDevices.getUserMedia({ [kind]: { deviceId: { exact: deviceId } } });
      const track = got.getTracks()[0];
      const old = kind === 'audio' ? s.getAudioTracks() : s.getVideoTracks();
      old.forEach((t) => {
        t.stop();
        s.removeTrack(t);
      });
      s.addTrack(track);
      if (kind === 'audio') startMeter(s);
      else {
        video.srcObject = null;
        video.srcObject = s;
        video.play().catch(() => undefined);
      }
      render();
    } catch {
      devMsg.textContent = kind === 'audio' ? "Couldn't use that microphone." : "Couldn't use that camera.";
      devMsg.hidden = false;
    }
  }
  micSelect.addEventListener('change', () => void switchDevice('audio', micSelect.value));
  camSelect.addEventListener('change', () => void switchDevice('video', camSelect.value));
  const micBtn = h('button', { type: 'button', class: 'round-btn', 'data-testid': 'preview-mic' });
  const camBtn = h('button', { type: 'button', class: 'round-btn', 'data-testid': 'preview-cam' });

  const nameInput = h('input', {
    type: 'text',
    class: 'input',
    id: 'display-name',
    maxlength: 64,
    autocomplete: 'name',
    placeholder: 'Your name',
    'data-testid': 'display-name',
  });
  nameInput.value = loadName();
  const nameErr = h('p', { class: 'field-error', role: 'alert' });
  const joinBtn = h(
    'button',
    { type: 'submit', class: 'btn btn-primary btn-lg', 'data-testid': 'join' },
    info.lobby && !isHost ? 'Ask to join' : 'Join now',
  );

  function render(): void {
    const s = media?.stream ?? null;
    const hasMic = !!s && s.getAudioTracks().length > 0;
    const hasCam = !!s && s.getVideoTracks().length > 0;
    s?.getAudioTracks().forEach((t) => (t.enabled = mic));
    s?.getVideoTracks().forEach((t) => (t.enabled = cam));
    const micOn = hasMic && mic;
    const camOn = hasCam && cam;
    micBtn.replaceChildren(icon(micOn ? 'mic' : 'micOff'));
    micBtn.classList.toggle('off', !micOn);
    micBtn.disabled = !hasMic;
    micBtn.setAttribute('aria-pressed', String(micOn));
    micBtn.setAttribute('aria-label', !hasMic ? 'No microphone' : micOn ? 'Turn off microphone' : 'Turn on microphone');
    camBtn.replaceChildren(icon(camOn ? 'cam' : 'camOff'));
    camBtn.classList.toggle('off', !camOn);
    camBtn.disabled = !hasCam;
    camBtn.setAttribute('aria-pressed', String(camOn));
    camBtn.setAttribute('aria-label', !hasCam ? 'No camera' : camOn ? 'Turn off camera' : 'Turn on camera');
    video.hidden = !camOn;
    previewMsg.textContent = !media ? 'Starting camera…' : !hasCam ? 'Camera is unavailable' : camOn ? '' : 'Camera is off';
    previewMsg.hidden = camOn;
    devMsg.textContent = media?.problem ?? '';
    devMsg.hidden = !media?.problem;
    joinBtn.disabled = !checkName(nameInput.value).ok;
  }

  micBtn.addEventListener('click', () => {
    mic = !mic;
    render();
  });
  camBtn.addEventListener('click', () => {
    cam = !cam;
    render();
  });
  nameInput.addEventListener('input', () => {
    nameErr.textContent = '';
    render();
  });

  const mediaReady = getMedia().then((r) => {
    if (left) {
      stopStream(r.stream);
      return r;
    }
    media = r;
    if (r.stream) {
      video.srcObject = r.stream;
      video.play().catch(() => undefined);
    }
    startMeter(r.stream);
    void fillPickers();
    render();
    return r;
  });

  const form = h(
    'form',
    { class: 'prejoin-form', novalidate: true },
    h('h1', null, 'Ready to join?'),
    h('p', { class: 'muted' }, 'Meeting ', h('span', { class: 'code' }, info.room)),
    isHost ? h('p', { class: 'badge-line' }, h('span', { class: 'badge' }, 'Host'), ' You are joining as the host.') : null,
    h('label', { for: 'display-name', class: 'label' }, 'Your name'),
    nameInput,
    nameErr,
    joinBtn,
    h('a', { href: '/', class: 'link small' }, 'Back to home'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = checkName(nameInput.value);
    if (!n.ok) {
      nameErr.textContent = n.reason;
      nameInput.focus();
      return;
    }
    joinBtn.disabled = true;
    joinBtn.textContent = 'Joining…';
    saveName(n.name);
    const r = await mediaReady;
    left = true;
    stopMeter();
    document.removeEventListener('pointerdown', resumeAudio, { capture: true });
    document.removeEventListener('keydown', resumeAudio, { capture: true });
    video.srcObject = null;
    onJoin({ name: n.name, stream: r.stream, mic, cam });
  });

  mount(
    h(
      'main',
      { class: 'page prejoin' },
      h('header', { class: 'topbar' }, h('a', { class: 'brand', href: '/' }, icon('cam', 'icon brand-icon'), h('span', null, 'Meet'))),
      h(
        'div',
        { class: 'prejoin-body' },
        h(
          'section',
          { class: 'preview', 'aria-label': 'Camera preview' },
          h('div', { class: 'preview-frame' }, video, previewMsg, h('div', { class: 'preview-controls' }, micBtn, camBtn)),
          devMsg,
          pickers,
        ),
        form,
      ),
    ),
  );
  render();
  if (!nameInput.value) nameInput.focus();
  else joinBtn.focus();
}
