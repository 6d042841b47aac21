import { readFileSync, readdirSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { GlobalClient } from '/work/main/src/local/client.ts';
import { startCluster } from '/work/main/bench/global/cluster.ts';
const threads = (pid: number): Map<string, number> => {
  const m = new Map<string, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const s = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
    const name = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
    const f = s.split(') ')[1]!.split(' ');
    m.set(`${t} ${name}`, (Number(f[11]) + Number(f[12])) / 100);
  }
  return m;
};
const c = await startCluster(3);
const pids = c.addresses.map((a) => Number(execSync(`ss -ltnp 'sport = :${a.split(':')[1]}' | grep -o 'pid=[0-9]*' | head -1`).toString().trim().slice(4)));
const client = new GlobalClient({ addresses: c.addresses, inFlightMax: 8192 });
const v = new Uint8Array(256);
await client.txn({ success: [{ kind: 'put', key: 'w', value: v }] });
const inflight = Number(process.argv[2] ?? 1);
const before = pids.map(threads);
let done = 0; const end = Date.now() + 5000; const t0 = Date.now();
await Promise.all(Array.from({ length: inflight }, async (_, w) => { let i = 0; while (Date.now() < end) { await client.txn({ success: [{ kind: 'put', key: `k${w}/${i++ % 100}`, value: v }] }); done++; } }));
const secs = (Date.now() - t0) / 1000;
const after = pids.map(threads);
const st = await client.status();
console.log(`c${inflight}: ${(done / secs).toFixed(0)} puts/s; leader=${st.leaderId}`);
pids.forEach((_p, i) => { for (const [k, v] of after[i]!) { const d = v - (before[i]!.get(k) ?? 0); if (d > 0.02) console.log(`replica ${i + 1} ${k}: ${(d / secs * 100).toFixed(1)}%`); } });
await client.close(); await c.stop();
