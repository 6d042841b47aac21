// Proves the Local client works inside worker_threads: a thread links its own Local, writes
// (served back from its cache: read-your-writes), and a Local in the main thread waits for
// the thread's revision and reads the value.
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { after, describe, it } from 'node:test';
import { Local } from '../../src/local/local.ts';
import { StreamingFake } from './fake-stream.ts';

let fake: StreamingFake | null = null;
after(async () => {
  await fake?.stop();
});

describe('Local in worker_threads', () => {
  it('runs in a thread and its writes reach another Local', async () => {
    fake = await StreamingFake.start();
    const worker = new Worker(new URL('./fixtures/thread-worker.ts', import.meta.url), { workerData: { global: fake.address, key: 'thread/k' }, execArgv: ['--import', 'tsx'] });
    const [message] = await Promise.all([
      new Promise<{ revision: number; value: string; source: string }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
      new Promise<number>((resolve) => worker.once('exit', resolve)),
    ]);
    assert.deepEqual({ value: message.value, source: message.source }, { value: 'from a thread', source: 'cache' });
    const local = Local.open({ global: [fake.address] });
    try {
      const got = await local.get('thread/k', { minRevision: message.revision });
      assert.equal(new TextDecoder().decode(got!.value), 'from a thread');
    } finally {
      await local.close();
    }
  });
});
