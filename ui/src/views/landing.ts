/* landing: start a new meeting, or join one with a code or link. */
import { parseMeetingInput } from '../lib/links';
import { h, mount } from './dom';
import { icon } from './icons';
import { toast } from './toast';

export function showLanding(): void {
  document.title = 'Meet';
  const btn = h(
    'button',
    { type: 'button', class: 'btn btn-primary btn-lg', 'data-testid': 'new-meeting' },
    icon('newCall'),
    h('span', null, 'New meeting'),
  );
  const input = h('input', {
    type: 'text',
    class: 'input',
    id: 'join-code',
    placeholder: 'Enter a code or link',
    'aria-label': 'Meeting code or link',
    autocomplete: 'off',
    spellcheck: 'false',
    'data-testid': 'join-code',
  });
  const joinBtn = h('button', { type: 'submit', class: 'btn btn-text', disabled: true, 'data-testid': 'join-code-submit' }, 'Join');
  const hint = h('p', { class: 'field-error', role: 'alert' });

  input.addEventListener('input', () => {
    joinBtn.disabled = input.value.trim() === '';
    hint.textContent = '';
  });

  const form = h('form', { class: 'join-form', novalidate: true }, h('span', { class: 'input-icon' }, icon('link')), input, joinBtn);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const room = parseMeetingInput(input.value);
    if (!room) {
      hint.textContent = "That doesn't look like a meeting code or link.";
      input.focus();
      return;
    }
    location.assign('/r/' + encodeURIComponent(room));
  });

  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      const res = await fetch('/api/rooms', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      if (res.status !== 201 && res.status !== 200) throw new Error('HTTP ' + res.status);
      const j = (await res.json()) as { room?: string; url?: string; host_url?: string };
      const target = j.host_url || j.url || (j.room ? '/r/' + j.room : '');
      if (!target) throw new Error('no url');
      location.assign(target);
    } catch (err) {
      console.error('create meeting', err);
      toast(err instanceof TypeError ? "Can't reach the server. Check your connection." : "Couldn't create a meeting. Try again.");
      btn.disabled = false;
    }
  });

  mount(
    h(
      'main',
      { class: 'page landing' },
      h('header', { class: 'topbar' }, h('div', { class: 'brand' }, icon('cam', 'icon brand-icon'), h('span', null, 'Meet'))),
      h(
        'div',
        { class: 'landing-main' },
        h(
          'section',
          { class: 'hero' },
          h('h1', null, 'Video calls and meetings for everyone'),
          h('p', { class: 'lead' }, 'Connect, collaborate and celebrate from anywhere.'),
          h('div', { class: 'hero-actions' }, btn, form),
          hint,
          h('hr', { class: 'divider' }),
          h('p', { class: 'muted small' }, 'Share the meeting link with the people you want to meet. Nothing to install.'),
        ),
        h(
          'div',
          { class: 'hero-art', 'aria-hidden': 'true' },
          ['#1e8e3e', '#8430ce', '#e37400', '#1967d2'].map((c) => h('span', null, h('i', { style: 'background:' + c }))),
        ),
      ),
    ),
  );
}
