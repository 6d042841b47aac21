import { GlobalClient } from '/work/main/src/local/client.ts';
import { startCluster } from '/work/main/bench/global/cluster.ts';
const c = await startCluster(3);
const client = new GlobalClient({ addresses: c.addresses, inFlightMax: 8192 });
const v = new Uint8Array(256);
for (let i = 0; i < 3000; i++) await client.txn({ success: [{ kind: 'put', key: `k${i % 100}`, value: v }] });
await client.close(); await c.stop();
