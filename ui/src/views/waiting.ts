/* waiting: the guest's screen while a host decides (lobby). */
import { h, mount } from './dom';
import { icon } from './icons';

export function showWaiting(room: string, name: string, stream: MediaStream | null, cam: boolean, onLeave: () => void): () => void {
  document.title = 'Waiting to join – Meet';
  const video = h('video', { class: 'preview-video mirror', autoplay: true, playsinline: true }) as HTMLVideoElement;
  video.muted = true;
  const hasCam = !!stream && cam && stream.getVideoTracks().length > 0;
  if (hasCam) {
    video.srcObject = stream;
    video.play().catch(() => undefined);
  }
  const cancel = h('button', { type: 'button', class: 'btn btn-outline', 'data-testid': 'cancel-knock' }, 'Cancel');
  cancel.addEventListener('click', onLeave);
  mount(
    h(
      'main',
      { class: 'page prejoin', 'data-testid': 'lobby-waiting' },
      h('header', { class: 'topbar' }, h('a', { class: 'brand', href: '/' }, icon('cam', 'icon brand-icon'), h('span', null, 'Meet'))),
      h(
        'div',
        { class: 'prejoin-body' },
        h(
          'section',
          { class: 'preview', 'aria-label': 'Your camera' },
          h('div', { class: 'preview-frame' }, hasCam ? video : h('div', { class: 'preview-msg' }, name)),
        ),
        h(
          'div',
          { class: 'prejoin-form', role: 'status', 'aria-live': 'polite' },
          h('h1', null, 'Asking to join…'),
          h('p', { class: 'muted' }, "You'll join the call when someone lets you in."),
          h('div', { class: 'spinner', 'aria-hidden': 'true' }),
          h('p', { class: 'muted small' }, 'Meeting ', h('span', { class: 'code' }, room)),
          cancel,
        ),
      ),
    ),
  );
  cancel.focus();
  return () => {
    video.srcObject = null;
  };
}
