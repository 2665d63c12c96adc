// Shared by the browser tests (not a test file itself): Chromium launch per
// ../shared/TESTING.md, the RTCPeerConnection hook, getStats helpers,
// screenshots. UI names: ../shared/UI-CONTRACT.md and ui/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, poll } from '../cluster/lib.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ART = path.join(ROOT, 'tests', 'artifacts', 'browser');
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

const BASE_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--mute-audio', '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows',
  '--autoplay-policy=no-user-gesture-required',
];
// Fake camera + microphone, and a fake screen for getDisplayMedia.
export const FAKE_MEDIA = ['--use-fake-device-for-media-stream=fps=10', '--use-fake-ui-for-media-stream',
  '--auto-select-desktop-capture-source=Entire screen'];

// Keeps every RTCPeerConnection the page creates in window.__pcs.
export const HOOK = `(() => {
  const Orig = window.RTCPeerConnection;
  if (!Orig || window.__pcs) return;
  window.__pcs = [];
  class Hooked extends Orig {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  }
  window.RTCPeerConnection = Hooked;
})();`;

export const tid = (page, id) => page.locator(`[data-testid="${id}"]`);
export const entry = (page, id, name) => page.locator(`[data-testid="${id}"][data-participant-name="${name}"]`);

// One Chromium with its own profile. media: true: fake camera, microphone
// and screen, permissions granted; 'denied': fake devices but every
// permission prompt refused; false: no devices at all.
export async function openPage(label, { viewport = DESKTOP, media = true, permissions = ['camera', 'microphone'], requests } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vc-chromium-${label}-`));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, ignoreDefaultArgs: ['--headless'],
    args: [...BASE_ARGS, ...(media === true ? FAKE_MEDIA : media === 'denied'
      ? ['--use-fake-device-for-media-stream=fps=10', '--deny-permission-prompts'] : ['--deny-permission-prompts'])],
    headless: false, viewport, permissions: media === true ? permissions : [],
  });
  ctx.__dir = dir;
  await ctx.addInitScript(HOOK);
  const page = ctx.pages()[0] || await ctx.newPage();
  const log = fs.createWriteStream(path.join(ART, `${label}-console.log`));
  page.on('console', (m) => log.write(`${new Date().toISOString()} ${m.type()}: ${m.text()}\n`));
  page.on('pageerror', (e) => log.write(`${new Date().toISOString()} pageerror: ${e.message}\n`));
  if (requests) page.on('request', (r) => requests.push(r.url()));
  page.__label = label;
  page.__ctx = ctx;
  return page;
}

// page.goto, again when Chromium aborted it because the machine's network
// changed under it (net::ERR_NETWORK_CHANGED: an interface of a test's
// namespace coming up), at most 3 times.
export async function gotoRetry(page, url) {
  for (let k = 0; ; k++) {
    try {
      return await page.goto(url);
    } catch (e) {
      if (k >= 2 || !/ERR_NETWORK_CHANGED/.test(e.message)) throw e;
      console.log(`# ${page.__label}: navigation aborted (network changed), again`);
    }
  }
}

export async function closePage(page) {
  if (!page) return;
  await page.__ctx.close().catch(() => {});
  fs.rmSync(page.__ctx.__dir, { recursive: true, force: true });
}

export async function shot(page, name) {
  if (!page) return;
  try { await page.screenshot({ path: path.join(ART, `${page.__label}-${name}.png`) }); } catch { /* closed */ }
}

// inbound-rtp of every live hooked pc.
export async function inbound(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const [n, pc] of (window.__pcs || []).entries()) {
      if (pc.connectionState === 'closed') continue;
      const st = await pc.getStats();
      st.forEach((r) => {
        if (r.type === 'inbound-rtp') {
          out.push({ key: `${n}/${r.kind}/${r.ssrc}`, kind: r.kind, mid: r.mid, framesDecoded: r.framesDecoded || 0,
            packetsReceived: r.packetsReceived || 0, frameWidth: r.frameWidth || 0, frameHeight: r.frameHeight || 0 });
        }
      });
    }
    return out;
  });
}

// Sum of a counter over the inbound streams of one kind.
export async function total(page, kind, field) {
  return (await inbound(page)).filter((r) => r.kind === kind).reduce((a, r) => a + r[field], 0);
}

// Waits until the counter grows by more than `min` within a window.
export async function growing(page, kind, field, { min = 0, timeout = 20000, what } = {}) {
  const first = await total(page, kind, field);
  let last = first;
  await poll(async () => { last = await total(page, kind, field); return last - first > min; },
    { timeout, interval: 500, what: what || `${page.__label}: ${kind} ${field} growing` })
    .catch((e) => { throw new Error(`${e.message} (from ${first} to ${last})`); });
}

export async function joinAs(page, name) {
  await tid(page, 'display-name').fill(name);
  await tid(page, 'join').click();
}

export async function connState(page) {
  return tid(page, 'connection-state').getAttribute('data-state').catch(() => null);
}

// What a page's connection looks like, for failure messages: the indicator
// and every live pc's connection, ICE and signaling states.
export async function connDiag(page) {
  const ind = await connState(page);
  const pcs = await page.evaluate(() => (window.__pcs || [])
    .map((pc) => `${pc.connectionState}/${pc.iceConnectionState}/${pc.signalingState}`).join(' '))
    .catch((e) => `(${e.message})`);
  return `${page.__label}: indicator ${ind}, pcs ${pcs || 'none'}`;
}

export async function noHorizontalOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
}

// The people panel (participant entries) open on this page.
export async function openPeople(page) {
  if (!(await tid(page, 'participants-panel').isVisible())) await tid(page, 'toggle-participants').click();
}

// Does proto/proto.c already list this client message (server support)?
export function serverHas(type) {
  const src = fs.readFileSync(path.join(ROOT, 'proto', 'proto.c'), 'utf8');
  return new RegExp(`\\{\\s*VC_CH_CLIENT\\s*,\\s*"${type}"`).test(src);
}

export { poll };
