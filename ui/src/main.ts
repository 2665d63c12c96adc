/* main: picks the screen from the address and wires screens together. */
import { isValidId, roomFromPath, takeHostToken } from './lib/links';
import { Session } from './call/session';
import { newCallStore } from './call/state';
import { showCall, type CallActions } from './views/call';
import { showWaiting } from './views/waiting';
import { Err } from './lib/errors';
import { showLanding } from './views/landing';
import { showNotice } from './views/notice';
import { checkRoom, showNotFound, showPrejoin, showUnreachable, stopStream, type JoinChoice, type RoomInfo } from './views/prejoin';
import { toast } from './views/toast';

const hostKey = (room: string) => 'vc.host.' + room;

/* "#host=<jwt>" -> sessionStorage for this room, and out of the address bar
 * so sharing the visible URL never shares the credential. */
function hostToken(room: string): string | null {
  const { token, rest } = takeHostToken(location.hash);
  if (token) {
    try {
      sessionStorage.setItem(hostKey(room), token);
    } catch {
      /* storage disabled: the token lives for this page only */
    }
    history.replaceState(history.state, '', location.pathname + location.search + rest);
    return token;
  }
  try {
    return sessionStorage.getItem(hostKey(room));
  } catch {
    return null;
  }
}

let current: Session | null = null;

/* The guest credential the edge issued for this room (issue 3): presented
 * on later joins so the room knows a returning (or removed) person. */
const credKey = (room: string) => 'vc.cred.' + room;
function guestCredential(room: string): string | null {
  try {
    return sessionStorage.getItem(credKey(room));
  } catch {
    return null;
  }
}
function saveCredential(room: string, token: string): void {
  try {
    sessionStorage.setItem(credKey(room), token);
  } catch {
    /* kept for this page only */
  }
}

function rejoinActions(room: string, label = 'Rejoin') {
  return [
    { label, primary: true, testid: 'rejoin', onClick: () => void openRoom(room) },
    { label: 'Return to home screen', href: '/', testid: 'home' },
  ];
}

function startCall(info: RoomInfo, hostTok: string | null, c: JoinChoice): void {
  const s = c.stream;
  const hasMic = !!s && s.getAudioTracks().length > 0;
  const hasCam = !!s && s.getVideoTracks().length > 0;
  const store = newCallStore({
    room: info.room,
    name: c.name,
    mic: hasMic && c.mic,
    cam: hasCam && c.cam,
    hasMic,
    hasCam,
  });
  /* The people panel starts open where there is room for it. */
  if (window.matchMedia('(min-width: 1000px)').matches) store.set({ panel: 'people' });
  let unmount: (() => void) | null = null;
  let unsub: (() => void) | null = null;
  const finish = () => {
    unsub?.();
    unsub = null;
    unmount?.();
    unmount = null;
    stopStream(s);
    current = null;
  };
  const session = new Session({
    room: info.room,
    name: c.name,
    token: hostTok ?? guestCredential(info.room),
    stream: s,
    store,
    events: {
      onFatal(title, text, code) {
        finish();
        if (code === Err.REMOVED) showRemoved(info.room);
        else if (code === Err.ROOM_NOT_FOUND) showNotFound();
        else showNotice({ title, text, warn: true, testid: 'call-error' });
      },
      onClosed(code, reason) {
        finish();
        if (code === Err.REMOVED) showRemoved(info.room);
        else if (code === Err.ROOM_ENDED)
          showNotice({
            title: 'The meeting has ended',
            text: 'A host ended the meeting for everyone.',
            testid: 'meeting-ended',
            actions: [{ label: 'Return to home screen', href: '/', primary: true, testid: 'home' }],
          });
        else showNotice({ title: 'The call ended', text: reason || undefined, testid: 'call-ended', actions: rejoinActions(info.room) });
      },
      onDenied() {
        finish();
        showNotice({
          title: "You can't join this call",
          text: 'Someone in the call denied your request to join.',
          testid: 'lobby-denied',
          warn: true,
          actions: rejoinActions(info.room, 'Ask again'),
        });
      },
      onCredential: (t) => saveCredential(info.room, t),
      onToast: (t) => toast(t),
    },
  });
  current = session;
  const leave = (notice: boolean) => {
    session.leave();
    finish();
    if (notice)
      showNotice({ title: 'You left the meeting', testid: 'left-notice', actions: rejoinActions(info.room) });
    else void openRoom(info.room);
  };
  const actions: CallActions = {
    setMic: (on) => session.setMic(on),
    setCam: (on) => session.setCam(on),
    streamFor: (id) => session.streamFor(id),
    host: (m) => session.host(m),
    sendChat: (t) => session.sendChat(t),
    startShare: () => session.startShare(),
    stopShare: () => session.stopShare(),
    leave: () => leave(true),
  };
  /* The screen follows the phase: the call, or the lobby's waiting room. */
  const showPhase = (phase: string) => {
    unmount?.();
    unmount =
      phase === 'lobby'
        ? showWaiting(info.room, c.name, s, c.cam, () => leave(false))
        : showCall(store, actions);
  };
  showPhase('call');
  unsub = store.subscribe((st, prev) => {
    if (st.phase !== prev.phase && (st.phase === 'lobby' || prev.phase === 'lobby')) showPhase(st.phase);
  });
  session.start();
}

function showRemoved(room: string): void {
  showNotice({
    title: 'You were removed from the meeting',
    text: 'A host removed you from this call. You can ask to join again; a host has to let you in.',
    testid: 'removed-notice',
    warn: true,
    actions: rejoinActions(room, 'Ask to join again'),
  });
}

async function openRoom(room: string): Promise<void> {
  const token = hostToken(room);
  const r = await checkRoom(room);
  if (!r.ok) {
    if (r.kind === 'not-found') showNotFound();
    else if (r.kind === 'unreachable') showUnreachable(() => openRoom(room));
    else
      showNotice({
        title: 'Something went wrong',
        text: "The meeting couldn't be opened. Try again in a moment.",
        warn: true,
        actions: [
          { label: 'Try again', primary: true, testid: 'retry', onClick: () => void openRoom(room) },
          { label: 'Return to home screen', href: '/', testid: 'home' },
        ],
      });
    return;
  }
  showPrejoin(r.info, token !== null, (c) => startCall(r.info, token, c));
}

function route(): void {
  const path = location.pathname;
  if (path === '/' || path === '/index.html') {
    showLanding();
    return;
  }
  const room = roomFromPath(path);
  if (room !== null) {
    if (isValidId(room)) void openRoom(room);
    else showNotFound();
    return;
  }
  showNotice({ title: 'Page not found', text: "The page you're looking for doesn't exist.", warn: true });
}

/* Closing the tab leaves at once instead of lingering as a detached session. */
window.addEventListener('pagehide', () => current?.leave());

route();
