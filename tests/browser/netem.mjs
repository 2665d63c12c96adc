// Network shaping for browser tests (not a test file): a second network
// namespace joined to the test's namespace by a veth pair, so one Chromium
// can sit behind a link that tc limits (tbf) or spoils (netem, nftables)
// while every other process keeps plain loopback. Only inside the namespace tests/browser/run.sh
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
// Turns IPv6 off on interface dev in namespace ns (null: this one); a
// kernel without IPv6 has no such file, which is fine.
const noIpv6 = (ns, dev) => {
  const f = `/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`;
  try {
    if (ns) ip('netns', 'exec', ns, 'sh', '-c', `echo 1 > ${f}`);
    else fs.writeFileSync(f, '1');
  } catch { /* no IPv6 */ }
};

// Creates the client namespace and the veth pair. Returns a Chromium
// executable (a wrapper script) that starts the browser inside it.
export function netSetup() {
  try { ip('netns', 'del', NS); } catch { /* not there */ }
  ip('netns', 'add', NS);
  ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', 'vq1');
  ip('link', 'set', 'vq1', 'netns', NS);
  // No IPv6 on the pair: a link-local address finishing duplicate address
  // detection a second after the link is up is a network change to a
  // Chromium started meanwhile, which aborts its navigation
  // (net::ERR_NETWORK_CHANGED).
  noIpv6(null, HOST_IF);
  noIpv6(NS, 'vq1');
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

// Random loss without netem (not in every kernel): nftables rules that drop
// pct% of UDP packets on input (DNS aside). On input, not output: an output
// drop makes sendto() fail with EPERM, which is not how loss looks to an
// application. A counting rule before the drop sees every packet it
// applies to, so lossCounters() proves the loss was applied. pct 0 removes
// the table. Throws if nft is missing or refuses.
//   loss(5)              5% of what the client namespace receives
//   loss(5, 'up', port)  5% of what arrives on loopback at UDP port (in the
//                        test's own namespace: e.g. a publisher -> worker)
const TABLES = { down: ['vcloss', true], up: ['vcloss_up', false] };
const nft = (inClient, ...a) =>
  execFileSync(inClient ? 'ip' : 'nft', inClient ? ['netns', 'exec', NS, 'nft', ...a] : a, { stdio: 'pipe' }).toString();
export function loss(pct, which = 'down', port = 0) {
  const [table, inClient] = TABLES[which];
  try { nft(inClient, 'delete', 'table', 'inet', table); } catch { /* none */ }
  if (!pct) return;
  const match = inClient ? ['udp', 'sport', '!=', '53'] : ['iifname', 'lo', 'udp', 'dport', String(port)];
  nft(inClient, 'add', 'table', 'inet', table);
  nft(inClient, 'add', 'chain', 'inet', table, 'in', '{ type filter hook input priority 0; }');
  nft(inClient, 'add', 'rule', 'inet', table, 'in', ...match, 'counter', 'comment', '"seen"');
  nft(inClient, 'add', 'rule', 'inet', table, 'in', ...match,
    'numgen', 'random', 'mod', '100', '<', String(pct), 'counter', 'drop', 'comment', '"dropped"');
}

// {seen, dropped}: UDP packets the rules of loss(_, which) saw and dropped.
export function lossCounters(which = 'down') {
  const [table, inClient] = TABLES[which];
  const out = { seen: 0, dropped: 0 };
  for (const l of nft(inClient, 'list', 'table', 'inet', table).split('\n')) {
    const m = l.match(/packets (\d+) bytes \d+.*comment "(seen|dropped)"/);
    if (m) out[m[2]] = Number(m[1]);
  }
  return out;
}
