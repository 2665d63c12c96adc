// Network shaping for browser tests (not a test file): a second network
// namespace joined to the test's namespace by a veth pair, so one Chromium
// can sit behind a link that tc limits (tbf) or spoils (netem) while every
// other process keeps plain loopback. Only inside the namespace tests/browser/run.sh
// creates; addresses from a private test range that exists nowhere else.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const NS = 'vcq';
export const HOST_IF = 'vq0';    // server side of the veth: shape its egress (toward the client)
export const HOST_IP = '10.99.0.1';
export const CLIENT_IP = '10.99.0.2';

const ip = (...a) => execFileSync('ip', a, { stdio: 'pipe' }).toString();
const tc = (...a) => execFileSync('tc', a, { stdio: 'pipe' }).toString();

// Creates the client namespace and the veth pair. Returns a Chromium
// executable (a wrapper script) that starts the browser inside it.
export function netSetup() {
  try { ip('netns', 'del', NS); } catch { /* not there */ }
  ip('netns', 'add', NS);
  ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', 'vq1');
  ip('link', 'set', 'vq1', 'netns', NS);
  ip('addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF);
  ip('link', 'set', HOST_IF, 'up');
  ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
  ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'vq1');
  ip('netns', 'exec', NS, 'ip', 'link', 'set', 'vq1', 'up');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vc-netns-'));
  const wrapper = path.join(dir, 'chromium-in-netns');
  const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${NS} ${chromium} "$@"\n`, { mode: 0o755 });
  return wrapper;
}

export function netTeardown() {
  try { ip('link', 'del', HOST_IF); } catch { /* gone with the namespace */ }
  try { ip('netns', 'del', NS); } catch { /* not there */ }
}

// Replaces the qdisc on the server's side of the link: e.g.
// shape('tbf', 'rate', '300kbit', 'burst', '16kb', 'latency', '200ms') or
// shape('netem', 'loss', '5%'); shape() clears it.
export function shape(...spec) {
  try { tc('qdisc', 'del', 'dev', HOST_IF, 'root'); } catch { /* none */ }
  if (spec.length > 0) tc('qdisc', 'add', 'dev', HOST_IF, 'root', ...spec);
}
