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
    // Node 20 does not pass the parent's module hooks to threads: the thread registers tsx
    // itself, then loads the TypeScript fixture (plain JavaScript workers need none of this).
    const fixture = new URL('./fixtures/thread-worker.ts', import.meta.url).href;
    const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(fixture)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData: { global: fake.address, key: 'thread/k' } });
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
