// Chat over WebRTC data channels through the real UI against a real cluster
// (redis, router, 1 worker, 1 edge), 3 Chromium pages in one meeting: each
// page sends a message; every page shows all of them (chat-message
// elements) in the same order, and the messages went over the "chat" data
// channel (getStats data-channel messagesSent/Received), not the WebSocket.
// Then the screen flag: while one page presents, the others show its tile
// large (participant.screen from the server). Protocol: docs/protocol.md
// "Chat", "Screen sharing".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Cluster, createRoom } from '../cluster/lib.mjs';
import { ART, closePage, entry, joinAs, openPage, poll, shot, tid } from './helpers.mjs';

const c = new Cluster('chat', { suite: 'browser' });
const NAMES = ['Ada Chat', 'Ben Chat', 'Cy Chat'];
const pages = [];
let base;
let room;

// The "chat" data channel's stats on a page (null before it exists).
async function dcStats(page) {
  return page.evaluate(async () => {
    for (const pc of window.__pcs || []) {
      if (pc.connectionState === 'closed') continue;
      const st = await pc.getStats();
      let out = null;
      st.forEach((r) => {
        if (r.type === 'data-channel' && r.label === 'chat')
          out = { state: r.state, sent: r.messagesSent || 0, received: r.messagesReceived || 0 };
      });
      if (out) return out;
    }
    return null;
  });
}

async function texts(page) {
  return tid(page, 'chat-message').evaluateAll((els) => els.map((e) => e.textContent));
}

before(async () => {
  fs.mkdirSync(ART, { recursive: true });
  await c.start({ workers: 1, edges: 1 });
  const edge = c.edges[0];
  base = `http://localhost:${edge.port}`;
  ({ room } = await createRoom(edge, { lobby: false }));
});

after(async () => {
  for (const p of pages) await closePage(p);
  await c.stop();
});

test('chat: 3 pages, each sends one message, every page shows all in order over data channels', async () => {
  for (let i = 0; i < 3; i++) {
    const p = await openPage(`chat-${i + 1}`);
    pages.push(p);
    await p.goto(`${base}/r/${room}`);
    await joinAs(p, NAMES[i]);
  }
  await poll(async () => {
    for (const p of pages) if ((await tid(p, 'tile').count()) !== 3) return false;
    return true;
  }, { timeout: 30000, what: '3 tiles on every page' });
  await poll(async () => {
    for (const p of pages) if ((await dcStats(p))?.state !== 'open') return false;
    return true;
  }, { timeout: 20000, what: 'the chat data channel open on every page' });
  for (const p of pages) await tid(p, 'toggle-chat').click();
  const sent = [];
  for (let i = 0; i < 3; i++) {
    const text = `message ${i + 1} from ${NAMES[i]}`;
    sent.push(text);
    await tid(pages[i], 'chat-input').fill(text);
    await tid(pages[i], 'chat-send').click();
    // Wait for every page before the next one sends: a total order to check.
    await poll(async () => {
      for (const p of pages)
        if ((await tid(p, 'chat-message').filter({ hasText: text }).count()) !== 1) return false;
      return true;
    }, { timeout: 10000, what: `"${text}" on every page` });
  }
  for (const p of pages) {
    const shown = await texts(p);
    assert.equal(shown.length, 3, `${p.__label} shows ${JSON.stringify(shown)}`);
    sent.forEach((t, k) => assert.ok(shown[k].includes(t), `${p.__label}: message ${k + 1} is "${shown[k]}"`));
    assert.equal(await tid(p, 'chat-message').locator('.failed').count(), 0);
    // Sent one and received two on the data channel: not over the WebSocket.
    const st = await dcStats(p);
    assert.ok(st && st.sent >= 1 && st.received >= 2, `${p.__label} data channel stats ${JSON.stringify(st)}`);
    await shot(p, 'chat');
  }
  // The others see who wrote each message.
  const fromAda = pages[1].locator('[data-testid="chat-message"][data-from-name="Ada Chat"]');
  assert.equal(await fromAda.count(), 1);
});

test('screen flag: while a page presents, the others show its tile large', async () => {
  assert.equal(pages.length, 3, 'pages not open (previous test failed)');
  const [presenter, ...others] = pages;
  await tid(presenter, 'toggle-screen').click();
  await poll(async () => (await tid(presenter, 'toggle-screen').getAttribute('aria-pressed')) === 'true',
    { timeout: 10000, what: 'presenting' });
  const spot = (p) => entry(p, 'tile', NAMES[0]).evaluate((e) => e.classList.contains('spotlight'));
  await poll(async () => (await spot(others[0])) && (await spot(others[1])),
    { timeout: 10000, what: "the others show the presenter's tile large" });
  await shot(others[0], 'sees-presenter');
  await tid(presenter, 'toggle-screen').click();
  await poll(async () => !(await spot(others[0])) && !(await spot(others[1])),
    { timeout: 10000, what: 'the tile back to normal after presenting stops' });
});
