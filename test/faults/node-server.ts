// A Local node server for the fault suite, as its own process: a Local following the given
// replicas, served on a free loopback port for attached workers. Prints
// "node server listening on <host:port>" once it serves. Stops on SIGTERM, and by itself
// when the process that started it goes away (so no node server outlives a run).
//
//   node --import tsx test/faults/node-server.ts --global h:p,h:p,h:p --lease-ms 500 --deadline-ms 2000
import { parseArgs } from 'node:util';
import { Local } from '../../src/local/local.ts';
import { LocalServer } from '../../src/local/node/local-server.ts';

const PARENT_CHECK_MS = 1000;

const { values } = parseArgs({ options: { global: { type: 'string' }, 'lease-ms': { type: 'string' }, 'deadline-ms': { type: 'string' } }, strict: true });
if (values.global === undefined) throw new Error('node-server.ts: --global host:port,... is required');
const local = Local.open({
  global: values.global.split(','),
  leaseMs: Number(values['lease-ms'] ?? 500),
  client: { deadlineMs: Number(values['deadline-ms'] ?? 2000), connectTimeoutMs: 500, backoffMaxMs: 200 },
});
const server = await LocalServer.listen(local, '127.0.0.1:0');
console.log(`node server listening on ${server.address}`);

const parent = process.ppid;
const stop = async (): Promise<void> => {
  await server.stop();
  await local.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
setInterval(() => {
  if (process.ppid !== parent) void stop();
}, PARENT_CHECK_MS).unref();
