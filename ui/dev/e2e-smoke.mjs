// End-to-end smoke test of the UI against a real cluster (not part of make:
// needs playwright-core, e.g. npm install playwright-core in a scratch dir).
// Run inside 'unshare -n' with the cluster started by tools/run-cluster.sh
// (ICE_ADDRESSES=127.0.0.1); SUP=<supervisor pid> enables the edge-restart check.
//   node ui/dev/e2e-smoke.mjs http://localhost:8085
import { chromium } from 'playwright-core';
const base = process.argv[2] || 'http://localhost:8085';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', ignoreDefaultArgs: ['--headless'],
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns', '--mute-audio',
    '--disable-renderer-backgrounding', '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows'],
});
const ck = (c, msg) => { console.log(c ? 'ok' : 'FAIL', msg); if (!c) process.exitCode = 1; };
const mk = async (name) => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 }, permissions: ['camera', 'microphone'] });
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log(`[${name}] ${m.text()}`); });
  page.on('pageerror', (e) => console.log(`[${name}] PAGEERROR ${e.message}`));
  return { ctx, page };
};
const state = (p) => p.getByTestId('connection-state').getAttribute('data-state');
const waitState = async (p, want, ms = 15000) => {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) { if ((await state(p)) === want) return true; await p.waitForTimeout(200); }
  return false;
};
const videoOk = (p, who) => p.evaluate((who) => {
  const v = document.querySelector(`[data-testid=tile][data-participant-name="${who}"] video`);
  return v ? { w: v.videoWidth, t: v.currentTime, n: v.srcObject ? v.srcObject.getTracks().length : 0 } : null;
}, who);

const A = await mk('ada');
await A.page.goto(base + '/');
await A.page.getByTestId('new-meeting').click();
await A.page.getByTestId('display-name').fill('Ada');
await A.page.getByTestId('join').click();
ck(await waitState(A.page, 'connected'), 'ada connected');
const room = A.page.url().split('/r/')[1];
ck(!A.page.url().includes('#'), 'no token in url');
ck((await A.page.locator('[data-testid=participant] .badge').count()) === 1, 'host badge');

const B = await mk('bob');
await B.page.goto(base + '/r/' + room);
await B.page.getByTestId('display-name').fill('Bob');
await B.page.getByTestId('join').click();
ck(await waitState(B.page, 'connected'), 'bob connected');
await A.page.waitForTimeout(3000);
ck((await A.page.getByTestId('tile').count()) === 2, 'ada sees 2 tiles');
ck((await B.page.getByTestId('tile').count()) === 2, 'bob sees 2 tiles');
const va = await videoOk(A.page, 'Bob'); const vb = await videoOk(B.page, 'Ada');
console.log('ada sees bob', va, 'bob sees ada', vb);
ck(va && va.w > 0 && va.n === 2, 'ada receives bob video+audio');
ck(vb && vb.w > 0 && vb.n === 2, 'bob receives ada video+audio');
await A.page.screenshot({ path: '/tmp/e2e-ada.png' });

await B.page.getByTestId('toggle-cam').click();
await A.page.waitForTimeout(1000);
ck(await A.page.locator('[data-testid=tile][data-participant-name="Bob"]').evaluate((e) => e.classList.contains('video-off')), 'ada sees bob cam off');
await B.page.getByTestId('toggle-cam').click();

// Reconnect: drop Bob's signaling for 1.5 s; media should keep flowing.
const t1 = (await videoOk(A.page, 'Bob')).t;
const { execSync } = await import('node:child_process');
const edgePid = execSync(`pgrep -P ${process.env.SUP} -x vc-edge`).toString().trim();
console.log('killing edge', edgePid);
execSync(`kill ${edgePid}`);
const seen = new Set();
for (let i = 0; i < 20; i++) { seen.add(await state(B.page)); await B.page.waitForTimeout(100); }
ck(seen.has('reconnecting'), 'bob saw reconnecting: ' + [...seen]);
ck(await waitState(B.page, 'connected', 15000), 'bob back to connected');
await A.page.waitForTimeout(1500);
ck(await waitState(A.page, 'connected', 15000), 'ada back to connected');
ck((await A.page.getByTestId('tile').count()) === 2, 'ada still 2 tiles after bob resume');
const t2 = (await videoOk(A.page, 'Bob')).t;
ck(t2 > t1, `bob video keeps playing at ada (${t1} -> ${t2})`);

await B.page.getByTestId('leave').click();
await B.page.getByTestId('left-notice').waitFor();
await A.page.waitForTimeout(1500);
ck((await A.page.getByTestId('tile').count()) === 1, 'ada back to 1 tile');
ck((await A.page.getByTestId('participant').count()) === 1, 'ada 1 participant');
await B.page.getByTestId('rejoin').click();
await B.page.getByTestId('join').click();
ck(await waitState(B.page, 'connected'), 'bob rejoined');
await A.page.waitForTimeout(2500);
const va2 = await videoOk(A.page, 'Bob');
ck(va2 && va2.w > 0, 'ada sees bob again (reused m-lines) ' + JSON.stringify(va2));
await A.page.screenshot({ path: '/tmp/e2e-ada2.png' });
const V = await mk('viewer');
await V.page.addInitScript(() => { navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError')); });
await V.page.goto(base + '/r/' + room);
await V.page.getByTestId('display-name').fill('Viewer');
await V.page.waitForTimeout(500);
console.log('viewer msg:', await V.page.locator('.device-msg').textContent());
await V.page.screenshot({ path: '/tmp/e2e-viewer-prejoin.png' });
await V.page.getByTestId('join').click();
ck(await waitState(V.page, 'connected'), 'viewer connected');
await V.page.waitForTimeout(2500);
ck((await V.page.getByTestId('tile').count()) === 3, 'viewer sees 3 tiles');
const vv = await videoOk(V.page, 'Ada');
ck(vv && vv.w > 0, 'viewer receives ada ' + JSON.stringify(vv));
ck(await V.page.getByTestId('toggle-mic').getAttribute('aria-pressed') === 'false', 'viewer mic not pressed');
await V.page.screenshot({ path: '/tmp/e2e-viewer.png' });
await browser.close();
