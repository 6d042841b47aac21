// Proves close(): every pending operation (a session request awaiting its answer, one waiting
// out its backoff, a blob download, a subscription) rejects with ClosedError; later calls
// reject with ClosedError; the status stream ends in 'closed'; and nothing is left behind: no
// socket, server or timer handle remains (polled with a deadline), so this file's process
// exits on its own. In a file of its own so that no other test's handles are counted.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { GlobalClient } from '../../src/local/client/client.ts';
import { ClosedError, UnavailableError } from '../../src/protocol/errors.ts';
import { hashOf } from '../../src/protocol/hash.ts';
import { errorResponse, FakeGlobal, waitUntil } from './fake-global.ts';

const LEAK_KINDS = new Set(['TCPSocketWrap', 'TCPServerWrap', 'Timeout']);

it('close() rejects everything pending with ClosedError and leaves no handles', async () => {
  const server = await FakeGlobal.start();
  server.onRequest = (r) => {
    if (r.body === 'get') return 'hold';
    if (r.body === 'delete') return errorResponse(r.id, new UnavailableError('no quorum'));
    return server.answer(r);
  };
  server.onGetBlob = () => {}; // never answers
  const client = new GlobalClient({ addresses: [server.address], backoffInitialMs: 60_000, backoffMaxMs: 60_000, deadlineMs: 600_000 });
  const states: string[] = [];
  client.onStatus((s) => states.push(s.state));

  const held = client.get('k');
  const backingOff = client.delete('k'); // answered UNAVAILABLE: waits out a 30..60 s backoff
  const download = client.getBlob(hashOf(Buffer.from('x')));
  const sub = client.subscribe({ fromRevision: 0 });
  const next = sub.next();
  await waitUntil(() => server.held.length === 1 && server.getBlobRequests.length === 1, 'the get and the download to arrive');
  await waitUntil(() => server.userRequests().some((r) => r.body === 'delete'), 'the delete to be refused once');

  await client.close();
  for (const pending of [held, backingOff, download, next]) await assert.rejects(pending, ClosedError);
  await assert.rejects(client.get('k'), ClosedError);
  assert.throws(() => client.subscribe({ fromRevision: 0 }), ClosedError);
  assert.equal(states.at(-1), 'closed');
  assert.equal(client.connectionStatus.state, 'closed');

  await server.stop();
  await waitUntil(
    () => !process.getActiveResourcesInfo().some((kind) => LEAK_KINDS.has(kind)),
    `no sockets or timers left (have ${process.getActiveResourcesInfo().join(', ')})`,
  );
});
