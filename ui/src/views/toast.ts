/* toast: short messages at the bottom of the screen (role=status). */
import { h } from './dom';

let host: HTMLElement | null = null;

export function toast(text: string, ms = 5000): void {
  if (!host || !host.isConnected) {
    host = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(host);
  }
  /* The same text twice in a row is shown once. */
  const last = host.lastElementChild as HTMLElement | null;
  if (last && last.textContent === text) return;
  const el = h('div', { class: 'toast', 'data-testid': 'toast' }, text);
  host.appendChild(el);
  window.setTimeout(() => el.remove(), ms);
}
