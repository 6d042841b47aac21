// Suite `refusals`: how long a replica's event loop is held while it refuses a request far over
// a count limit, which request-prescan.ts refuses from a scan of its bytes before decoding. The
// replica runs in this process, so the longest event-loop delay during the call is what the
// refusal held it for (the client's own work included). test/global/cost-limits.cluster.test.ts
// proves each refusal comes from the scan; this suite holds the speed claim. Decoding such a
// transaction whole held the loop 1.2-1.8 s; the scan stops at the limit.
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GlobalServer } from '../../src/global/server/global-server.ts';
import { mapStoreTxn, rawUnary, txnBytes } from '../../test/global/refusals.ts';
import { RUNS_MIN, repeat, report } from '../harness.ts';

const ELEMENTS = 1_000_000;
const LOOP_HOLD_MS_MAX = 100;

const dataDir = mkdtempSync(join(tmpdir(), 'dstore-bench-refusals-'));
const server = await GlobalServer.listen('127.0.0.1:0');
await server.start({ replicaId: 1, members: new Map([[1, server.address]]), dataDir, clusterId: 'bench-refusals' });
const raw = new grpc.Client(server.address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1024 * 1024 });

/** The longest event-loop delay (ms) while `bytes` is sent as a Txn and refused. */
async function loopHoldMs(bytes: Buffer): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const o = await rawUnary(raw, '/dstore.v1.Global/Txn', bytes);
  h.disable();
  if (o.dstoreError !== 'TOO_LARGE') throw new Error(`expected TOO_LARGE, got ${o.dstoreError}: ${o.details}`);
  return h.max / 1e6;
}

try {
  const ops = txnBytes({ get: { key: 'k' } }, ELEMENTS);
  const entries = mapStoreTxn(ELEMENTS);
  const opsMs = await repeat(RUNS_MIN + 2, () => loopHoldMs(ops));
  const entriesMs = await repeat(RUNS_MIN + 2, () => loopHoldMs(entries));
  report(
    'refusals',
    {
      txn_1M_ops_loop_hold_ms: { runs: opsMs, unit: 'ms', target: { atMost: LOOP_HOLD_MS_MAX } },
      map_store_1M_entries_loop_hold_ms: { runs: entriesMs, unit: 'ms', target: { atMost: LOOP_HOLD_MS_MAX } },
    },
    { txnBytes: ops.byteLength, mapStoreBytes: entries.byteLength, elements: ELEMENTS },
  );
} finally {
  raw.close();
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
