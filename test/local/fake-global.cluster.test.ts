// The scripted fake Global (fake-global.ts) keeps the real Global's rules where it answers by
// itself, so tests that stay on it can fail: a txn's compares decide which branch runs, and a
// write is deduplicated only per (clientId, requestId), never for free.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { GlobalClient } from '../../src/local/client/client.ts';
import { hashOf } from '../../src/protocol/hash.ts';
import { FakeGlobal } from './fake-global.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function fakeAndClient(clientId?: string): Promise<{ fake: FakeGlobal; client: GlobalClient }> {
  const fake = await FakeGlobal.start();
  cleanups.push(() => fake.stop());
  const client = new GlobalClient({ addresses: [fake.address], ...(clientId === undefined ? {} : { clientId }) });
  cleanups.push(() => client.close());
  return { fake, client };
}

describe('FakeGlobal is faithful where it stays', () => {
  it('a txn evaluates its compares and runs the failure branch when one does not hold', async () => {
    const { fake, client } = await fakeAndClient();
    const first = await client.set('k', text('v1'));
    const stale = await client.txn({
      compares: [{ key: 'k', target: 'modRevision', operator: 'equal', number: first.revision - 1 }],
      success: [{ kind: 'put', key: 'k', value: text('lost') }],
      failure: [{ kind: 'put', key: 'other', value: text('fallback') }],
    });
    assert.equal(stale.succeeded, false);
    assert.equal(fake.keys.get('k')?.value.toString(), 'v1', 'the success branch did not run');
    assert.equal(fake.keys.get('other')?.value.toString(), 'fallback', 'the failure branch did');
    const ok = await client.txn({
      compares: [
        { key: 'k', target: 'modRevision', operator: 'equal', number: first.revision },
        { key: 'k', target: 'version', operator: 'equal', number: 1 },
        { key: 'k', target: 'hash', operator: 'equal', hash: hashOf(text('v1')) },
        { key: 'absent', target: 'exists', operator: 'equal', exists: false },
        { key: 'other', target: 'version', operator: 'greater', number: 0 },
      ],
      success: [{ kind: 'put', key: 'k', value: text('v2') }, { kind: 'delete', key: 'other' }],
    });
    assert.equal(ok.succeeded, true);
    assert.deepEqual(ok.results.map((r) => r.kind), ['written', 'delete']);
    assert.equal(fake.keys.get('k')?.value.toString(), 'v2');
    assert.equal(fake.keys.has('other'), false);
    const [written] = ok.results;
    assert.equal(written?.kind === 'written' ? written.kv.version : 0, 2);
    const notEqual = await client.txn({ compares: [{ key: 'k', target: 'hash', operator: 'notEqual', hash: hashOf(text('v2')) }], success: [{ kind: 'delete', key: 'k' }] });
    assert.equal(notEqual.succeeded, false);
    assert.equal(fake.keys.has('k'), true);
  });

  it('applies each WriteId once, a new WriteId again, and refuses a replay of a forgotten one', async () => {
    const clientId = 'worker-0123456789abcdef';
    const { fake, client: a } = await fakeAndClient(clientId);
    const first = await a.txn({ success: [{ kind: 'put', key: 'k', value: text('x') }] }); // the session open (1), then 2
    const again = await a.txn({ success: [{ kind: 'put', key: 'k', value: text('x') }] }); // 3: a new write
    assert.equal(again.revision, first.revision + 1, 'a new WriteId is a new write');
    assert.equal(fake.keys.get('k')?.version, 2);
    assert.deepEqual([...fake.applied.values()], [1, 1, 1], 'the open and both puts, once each');
    // Another client under the same id starts at request 1 again: a replay of a WriteId whose
    // result was forgotten (below firstIncomplete) is refused, as Global refuses it, not run.
    const b = new GlobalClient({ addresses: [fake.address], clientId, retriesMax: 0 });
    cleanups.push(() => b.close());
    await assert.rejects(b.txn({ success: [{ kind: 'put', key: 'k', value: text('y') }] }), /older than the results kept/);
    assert.equal(fake.keys.get('k')?.version, 2, 'nothing ran again');
  });
});
