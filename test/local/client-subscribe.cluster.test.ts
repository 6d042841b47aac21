// Proves the typed Subscribe wrapper against a fake Global server: events and progress
// notices arrive in order as domain types; "history compacted" (OUT_OF_RANGE with dstore
// metadata) becomes CompactedError carrying the oldest revision; a stream the server ends
// becomes UnavailableError telling where to resume; closing the subscription ends the
// iteration normally and cancels the server's call.
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { afterEach, describe, it } from 'node:test';
import { GlobalClient } from '../../src/local/client/client.ts';
import type { SubscribeMessage } from '../../src/local/client/client-types.ts';
import { CompactedError, UnavailableError } from '../../src/protocol/errors.ts';
import type { SubscribeRequest__Output } from '../../src/protocol/generated/dstore/v1/SubscribeRequest.ts';
import type { SubscribeResponse } from '../../src/protocol/generated/dstore/v1/SubscribeResponse.ts';
import { toGrpcStatus } from '../../src/protocol/grpc-status.ts';
import { hashOf, hashToBytes } from '../../src/protocol/hash.ts';
import { FakeGlobal, waitUntil } from './fake-global.ts';

type SubscribeCall = grpc.ServerWritableStream<SubscribeRequest__Output, SubscribeResponse>;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(): Promise<{ server: FakeGlobal; client: GlobalClient; calls: SubscribeCall[] }> {
  const server = await FakeGlobal.start();
  const client = new GlobalClient({ addresses: [server.address] });
  cleanups.push(() => server.stop(), () => client.close());
  const calls: SubscribeCall[] = [];
  server.onSubscribe = (call) => calls.push(call);
  return { server, client, calls };
}

const hash = hashOf(Buffer.from('v'));

describe('client subscribe', () => {
  it('delivers events and progress notices in order as domain types', async () => {
    const { client, calls } = await setup();
    const sub = client.subscribe({ fromRevision: 5, prefix: 'user/' });
    await waitUntil(() => calls.length === 1, 'the Subscribe call');
    const call = calls[0]!;
    assert.deepEqual({ from: call.request.fromRevision, prefix: call.request.prefix }, { from: 5, prefix: 'user/' });
    const kv = { key: 'user/a', hash: hashToBytes(hash), size: 1, createRevision: 5, modRevision: 5, version: 1 };
    call.write({ revision: 5, events: { events: [{ type: 'TYPE_PUT', kv }] } });
    call.write({ revision: 6, events: { events: [{ type: 'TYPE_DELETE', kv: { key: 'user/a', modRevision: 6 } }] } });
    call.write({ revision: 9, progress: { revision: 9 } });
    const got: SubscribeMessage[] = [];
    for await (const message of sub) {
      got.push(message);
      if (got.length === 3) break;
    }
    assert.deepEqual(got, [
      { kind: 'events', revision: 5, events: [{ type: 'put', kv: { key: 'user/a', hash, size: 1, createRevision: 5, modRevision: 5, version: 1 } }] },
      { kind: 'events', revision: 6, events: [{ type: 'delete', key: 'user/a', revision: 6 }] },
      { kind: 'progress', revision: 9 },
    ]);
    assert.equal(sub.lastRevision, 9);
    await waitUntil(() => call.cancelled, 'the server call to be cancelled after break');
  });

  it('maps "history compacted" to CompactedError with the oldest revision', async () => {
    const { client, server } = await setup();
    server.onSubscribe = (call) => call.emit('error', toGrpcStatus(new CompactedError('revision 3 is compacted; oldest is 17', 17)));
    const sub = client.subscribe({ fromRevision: 3 });
    await assert.rejects(sub.next(), (err: unknown) => err instanceof CompactedError && err.oldestRevision === 17);
  });

  it('reports a stream the server ended as UnavailableError naming the revision to resume from', async () => {
    const { client, calls } = await setup();
    const sub = client.subscribe({ fromRevision: 1 });
    await waitUntil(() => calls.length === 1, 'the Subscribe call');
    calls[0]!.write({ revision: 4, progress: { revision: 4 } });
    calls[0]!.end();
    assert.deepEqual((await sub.next()).value, { kind: 'progress', revision: 4 });
    await assert.rejects(sub.next(), (err: unknown) => err instanceof UnavailableError && /subscribe again from 5/.test(err.message));
  });

  it('ends the iteration normally when the subscription is closed while waiting', async () => {
    const { client, calls } = await setup();
    const sub = client.subscribe({ fromRevision: 0 });
    await waitUntil(() => calls.length === 1, 'the Subscribe call');
    const pending = sub.next();
    sub.close();
    assert.deepEqual(await pending, { done: true, value: undefined });
    await waitUntil(() => calls[0]!.cancelled, 'the server call to be cancelled');
  });
});
