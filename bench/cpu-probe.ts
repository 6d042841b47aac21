// CPU per put in each process of a 3-replica Global and this client: `npx tsx bench/cpu-probe.ts [inFlight]`.
// Reads /proc/<pid>/stat of each replica before and after 5 s of
// closed-loop puts; the figure to watch when shaving the write path, since throughput is CPU-bound.
import { GlobalClient } from '../src/local/client/client.ts';
import { startCluster } from './global/cluster.ts';
import { cpuSecondsOf as cpuOf } from './cpu.ts';
const c = await startCluster(3);
const pids = c.pids;
const client = new GlobalClient({ addresses: c.addresses, inFlightMax: 8192 });
const v = new Uint8Array(256);
await client.txn({ success: [{ kind: 'put', key: 'w', value: v }] });
const inflight = Number(process.argv[2] ?? 256);
const before = pids.map(cpuOf); const selfBefore = process.cpuUsage();
let done = 0; const end = Date.now() + 5000; const t0 = Date.now();
await Promise.all(Array.from({ length: inflight }, async (_, w) => { let i = 0; while (Date.now() < end) { await client.txn({ success: [{ kind: 'put', key: `k${w}/${i++ % 100}`, value: v }] }); done++; } }));
const secs = (Date.now() - t0) / 1000;
const after = pids.map(cpuOf); const self = process.cpuUsage(selfBefore);
const st = await client.status();
console.log(`c${inflight}: ${(done / secs).toFixed(0)} puts/s; leader=${st.leaderId}`);
pids.forEach((_p, i) => console.log(`replica ${i + 1}: ${((after[i]! - before[i]!) / secs * 100).toFixed(0)}% cpu, ${((after[i]! - before[i]!) / done * 1e6).toFixed(1)} us/op`));
console.log(`client: ${(((self.user + self.system) / 1e6) / secs * 100).toFixed(0)}% cpu, ${((self.user + self.system) / done).toFixed(1)} us/op`);
await client.close(); await c.stop();
