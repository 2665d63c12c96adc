// tools/run-cluster.sh (what `make run` starts) and vc-supervisor: the whole
// local cluster comes up and serves a call; a killed worker is restarted; the
// supervisor stops everything on SIGTERM, when a `once` child (Redis) exits,
// and even when it is itself killed with SIGKILL (PR_SET_PDEATHSIG).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster, Client, createRoom, poll, redisCli, ROOT, sanitizerReports } from './lib.mjs';

const c = new Cluster('supervisor');
const runs = [];
after(async () => { await c.stop(); for (const d of runs) fs.rmSync(d, { recursive: true, force: true }); });

function alive(pid) {
  try { process.kill(pid, 0); } catch (e) { return e.code !== 'ESRCH'; }
  // A zombie is dead for our purpose.
  try { return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; }
}

// The pids the supervisor logged: {name: [pid, ...]}
function children(sup) {
  const out = {};
  for (const m of sup.log.matchAll(/started (\S+) \(pid (\d+)\)/g)) (out[m[1]] ||= []).push(Number(m[2]));
  return out;
}

let port = 18100;
async function startCluster(workers = 2) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vc-run-'));
  runs.push(dir);
  port += 1;
  const sup = c.spawn(`run-cluster-${port}`, path.join(ROOT, 'tools', 'run-cluster.sh'), [], {
    PORT: String(port), WORKERS: String(workers), RUN_DIR: dir, ICE_ADDRESSES: '127.0.0.1', REDIS_URL: '',
  });
  sup.port = port;
  sup.dir = dir;
  sup.base = `http://127.0.0.1:${port}`;
  sup.wsUrl = `ws://127.0.0.1:${port}/ws`;
  sup.redisSock = path.join(dir, 'redis.sock');
  await sup.waitLine(/supervisor: ready/, 10000);
  // Children log straight through the supervisor: wait for each one's ready line.
  await sup.waitLine(/ router: ready/, 10000);
  await sup.waitLine(/ edge: ready/, 10000);
  await poll(async () => (await fetch(`${sup.base}/healthz`)).status === 200, { timeout: 10000, what: 'edge /healthz' });
  for (let i = 0; i < workers; i++) {
    await poll(async () => (await redisCli(sup.redisSock, 'EXISTS', `vc:worker:w${i}`)) === '1',
      { timeout: 10000, what: `vc:worker:w${i}` });
  }
  return sup;
}

test('run-cluster.sh starts a cluster that serves a call', async () => {
  const sup = await startCluster(2);
  const st = fs.statSync(path.join(sup.dir, 'jwt-secret'));
  assert.equal(st.mode & 0o777, 0o600, 'jwt-secret is not 0600');
  assert.match(fs.readFileSync(path.join(sup.dir, 'jwt-secret'), 'utf8'), /^[0-9a-f]{64}$/);
  const spec = fs.readFileSync(path.join(sup.dir, 'cluster.spec'), 'utf8');
  assert.match(spec, /^redis once /m);
  assert.match(spec, /^worker-1 restart .*--cpu \d+ /m);
  assert.ok(!spec.includes(fs.readFileSync(path.join(sup.dir, 'jwt-secret'), 'utf8')), 'secret on a command line');
  const room = await createRoom(sup);
  const a = await Client.connect(sup, 'A');
  const b = await Client.connect(sup, 'B');
  try {
    const ja = await a.join(room.room, 'Ann');
    await b.join(room.room, 'Ben');
    const pj = await a.next('participant_joined', { timeout: 2000 });
    assert.ok(pj.participant);
    assert.match(ja.offer.sdp, /a=candidate:.* 127\.0\.0\.1 /);
  } finally { a.close(); b.close(); }

  // A worker killed with SIGKILL is restarted and registers again.
  const pid0 = Number(await redisCli(sup.redisSock, 'HGET', 'vc:worker:w0', 'pid'));
  assert.ok(pid0 > 0, 'vc:worker:w0 has no pid');
  assert.ok(children(sup)['worker-0'].includes(pid0), `w0 pid ${pid0} is not the supervisor's child`);
  process.kill(pid0, 'SIGKILL');
  await sup.waitLine(/worker-0 \(pid \d+\) killed by signal 9.*restart/, 5000);
  await poll(async () => {
    const p = Number(await redisCli(sup.redisSock, 'HGET', 'vc:worker:w0', 'pid'));
    return p > 0 && p !== pid0;
  }, { timeout: 10000, what: 'the restarted w0 to register with a new pid' });

  // SIGTERM: everything stops within the 5 s grace, exit 0.
  const pids = Object.values(children(sup)).flat();
  const t0 = Date.now();
  const e = await sup.kill('SIGTERM', 8000);
  assert.equal(e.code, 0, `supervisor exit ${JSON.stringify(e)}`);
  assert.ok(Date.now() - t0 < 7000);
  const left = pids.filter(alive);
  assert.deepEqual(left, [], `still running after the supervisor stopped: ${left}`);
  assert.ok(!/still running after/.test(sup.log), 'a child needed SIGKILL:\n' + sup.log.split('\n').filter((l) => /SIGKILL/.test(l)).join('\n'));
  assert.deepEqual(sanitizerReports(sup.log), []);
});

test('when Redis (a once child) exits, the supervisor stops everything', async () => {
  const sup = await startCluster(1);
  const pids = Object.values(children(sup)).flat();
  const redisPid = children(sup).redis[0];
  process.kill(redisPid, 'SIGKILL');
  sup.expectedExit = true;
  const e = await sup.waitExit(10000);
  assert.ok(e, 'supervisor still running 10 s after redis died');
  assert.equal(e.code, 1);
  const left = pids.filter(alive);
  assert.deepEqual(left, [], `still running: ${left}`);
});

test('a supervisor killed with SIGKILL leaves no child behind', async () => {
  const sup = await startCluster(1);
  const pids = Object.values(children(sup)).flat();
  await sup.kill('SIGKILL');
  await poll(() => pids.every((p) => !alive(p)), { timeout: 5000, what: `children ${pids} to die with the supervisor` });
});

test('vc-supervisor rejects a bad spec with exit 2', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vc-spec-'));
  runs.push(dir);
  fs.writeFileSync(path.join(dir, 'bad.spec'), 'a sometimes /bin/true\n');
  const p = c.spawn('bad-spec', path.join(ROOT, process.env.BUILD || 'build', 'bin', 'vc-supervisor'), [path.join(dir, 'bad.spec')]);
  p.expectedExit = true;
  const e = await p.waitExit(5000);
  assert.equal(e.code, 2);
  assert.match(p.log, /line 1: mode must be/);
});
