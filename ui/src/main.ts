/* main: picks the screen from the address and wires screens together. */
import { isValidId, roomFromPath, takeHostToken } from './lib/links';
import { Session } from './call/session';
import { newCallStore } from './call/state';
import { showCall } from './views/call';
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

function startCall(info: RoomInfo, token: string | null, c: JoinChoice): void {
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
  const finish = () => {
    unmount?.();
    unmount = null;
    stopStream(s);
    current = null;
  };
  const session = new Session({
    room: info.room,
    name: c.name,
    token,
    stream: s,
    store,
    events: {
      onFatal(title, text) {
        finish();
        showNotice({ title, text, warn: true, testid: 'call-error' });
      },
      onClosed(_code, reason) {
        finish();
        showNotice({
          title: 'The call ended',
          text: reason || undefined,
          testid: 'call-ended',
          actions: [
            { label: 'Rejoin', primary: true, testid: 'rejoin', onClick: () => openRoom(info.room) },
            { label: 'Return to home screen', href: '/', testid: 'home' },
          ],
        });
      },
      onToast: (t) => toast(t),
    },
  });
  current = session;
  unmount = showCall(store, {
    setMic: (on) => session.setMic(on),
    setCam: (on) => session.setCam(on),
    streamFor: (id) => session.streamFor(id),
    leave() {
      session.leave();
      finish();
      showNotice({
        title: 'You left the meeting',
        testid: 'left-notice',
        actions: [
          { label: 'Rejoin', primary: true, testid: 'rejoin', onClick: () => openRoom(info.room) },
          { label: 'Return to home screen', href: '/', testid: 'home' },
        ],
      });
    },
  });
  session.start();
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
          { label: 'Try again', primary: true, testid: 'retry', onClick: () => openRoom(room) },
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
