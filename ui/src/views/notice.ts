/* notice: full-screen messages (meeting not found, left, ended, errors). */
import { h, mount } from './dom';
import { icon } from './icons';

export interface NoticeAction {
  label: string;
  primary?: boolean;
  testid?: string;
  href?: string;
  onClick?: () => void;
}

export interface Notice {
  title: string;
  text?: string;
  testid?: string;
  actions?: NoticeAction[];
  warn?: boolean;
}

export function showNotice(n: Notice): void {
  const actions = (n.actions ?? [{ label: 'Return to home screen', href: '/', testid: 'home' }]).map((a) => {
    const cls = a.primary ? 'btn btn-primary' : 'btn btn-outline';
    return a.href
      ? h('a', { class: cls, href: a.href, 'data-testid': a.testid }, a.label)
      : h('button', { type: 'button', class: cls, 'data-testid': a.testid, onclick: () => a.onClick?.() }, a.label);
  });
  document.title = n.title + ' – Meet';
  mount(
    h(
      'main',
      { class: 'page notice', 'data-testid': n.testid ?? 'notice' },
      h(
        'div',
        { class: 'notice-card' },
        n.warn ? icon('warn', 'icon notice-icon') : null,
        h('h1', null, n.title),
        n.text ? h('p', { class: 'muted' }, n.text) : null,
        h('div', { class: 'notice-actions' }, actions),
      ),
    ),
  );
  const first = document.querySelector<HTMLElement>('.notice-actions > *');
  first?.focus();
}
