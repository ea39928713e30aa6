#!/usr/bin/env node
// ioredis (Redis.Cluster) doing tools/compare.sh's workloads, one JSON line per run.
// Usage: peer_ioredis.js WORKLOAD --port P [--ops N] [--fibers F] [--batch B] [--calls N]
// Workloads as in peer_redispy.py. ioredis multiplexes every command of a node on one connection,
// so a parked BRPOP would stall the others: each blocking call gets its own Cluster client
// (what ioredis's documentation says to do for blocking commands).
'use strict';
const Redis = require('ioredis');
const calculateSlot = require('cluster-key-slot');  // ioredis's own dependency

function args() {
  const a = { workload: process.argv[2], port: 0, ops: 20000, fibers: 100, batch: 16, calls: 1000 };
  for (let i = 3; i < process.argv.length; i += 2) a[process.argv[i].replace(/^--/, '')] = Number(process.argv[i + 1]);
  return a;
}

const rssKib = () => Math.round(process.memoryUsage().rss / 1024);

async function main() {
  const a = args();
  const nodes = [{ host: '127.0.0.1', port: a.port }];
  const rc = new Redis.Cluster(nodes);
  const value = 'v'.repeat(32);
  const out = { workload: a.workload, client: 'ioredis', target: 'cluster' };
  const key = () => 'cmp:' + Math.floor(Math.random() * 1e6);
  const setGet = async (n) => {
    let bad = 0;
    for (let i = 0; i < n / 2; i++) {
      const k = key();
      await rc.set(k, value);
      if ((await rc.get(k)) !== value) bad++;
    }
    return bad;
  };
  await rc.ping();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let ops = 0;
  let bad = 0;
  const extra = [];
  if (a.workload === 'sequential') {
    bad = await setGet(a.ops);
    ops = a.ops;
  } else if (a.workload === 'concurrent') {
    const per = Math.floor(a.ops / a.fibers);
    const r = await Promise.all(Array.from({ length: a.fibers }, () => setGet(per)));
    bad = r.reduce((x, y) => x + y, 0);
    ops = per * a.fibers;
  } else if (a.workload === 'pipeline') {
    const lat = [];
    const tag = Math.floor(Math.random() * 1e6);
    const batches = Math.floor(a.ops / a.batch);
    for (let b = 0; b < batches; b++) {
      const p = rc.pipeline();
      for (let i = 0; i < a.batch; i++) p.set(`cmp:{${tag}}:${i}`, value);
      const s = process.hrtime.bigint();
      await p.exec();
      lat.push(Number(process.hrtime.bigint() - s) / 1e3);
    }
    lat.sort((x, y) => x - y);
    out.p50_us = Math.round(lat[Math.floor(lat.length / 2)] * 10) / 10;
    out.p99_us = Math.round(lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] * 10) / 10;
    out.batch = a.batch;
    ops = batches * a.batch;
  } else if (a.workload === 'blocking') {
    const rss0 = rssKib();
    const keys = Array.from({ length: a.calls }, (_, i) => `cmp:block:{${i}}`);
    const clients = keys.map((k) => {
      const [host, port] = rc.slots[calculateSlot(k)][0].split(':');
      return new Redis({ host, port: Number(port) });
    });
    extra.push(...clients);
    const parked = clients.map((c, i) => c.brpop(keys[i], 30));
    const deadline = Date.now() + 60000;
    for (;;) {
      const infos = await Promise.all(rc.nodes('master').map((n) => n.info('clients')));
      const blocked = infos.reduce((s, t) => s + Number((/blocked_clients:(\d+)/.exec(t) || [0, 0])[1]), 0);
      if (blocked >= a.calls || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    out.rss_per_call_kib = Math.round(((rssKib() - rss0) / a.calls) * 100) / 100;
    for (let i = 0; i < a.calls; i++) await rc.rpush(`cmp:block:{${i}}`, 'x');
    const r = await Promise.all(parked);
    bad = r.filter((x) => x === null).length;
    ops = a.calls;
    out.calls = a.calls;
  } else {
    throw new Error('unknown workload ' + a.workload);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  Object.assign(out, { ops, wrong: bad, seconds: Math.round(secs * 1000) / 1000, ops_per_sec: Math.round(ops / secs),
    cpu_s: Math.round((cpu.user + cpu.system) / 1e3) / 1e3, max_rss_kib: Math.round(process.resourceUsage().maxRSS) });
  console.log(JSON.stringify(out));
  await Promise.all(extra.map((c) => c.quit()));
  await rc.quit();
  process.exitCode = bad ? 1 : 0;
}

main().catch((e) => { console.error('peer_ioredis: ' + e.message); process.exit(1); });
