// The fault suite's clients: writers (put, set = put-if-absent, cas, delete, each with a
// unique value) and readers, on a few hot keys, through Global directly, through Locals
// linked in this process and through a worker attached to a Local node server. Every
// operation is recorded (history.ts) with invoke and complete times from one clock: this
// process's performance.now, relative to the recorder's start.
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { AttachedLocal } from '../../src/local/node/attach.ts';
import type { GlobalClient } from '../../src/local/client/client.ts';
import type { Local } from '../../src/local/local.ts';
import { SplitMix32 } from '../../src/consensus/random.ts';
import { DstoreError, KeyOccupiedError } from '../../src/protocol/errors.ts';
import type { Observed, Op, ReadOp, ReadSource, WriteOp } from './history.ts';

/** The hot keys every client reads and writes. */
export const KEYS = ['f/a', 'f/b', 'f/c', 'f/d'];

const text = new TextEncoder();
const utf8 = new TextDecoder();

/** What a read answered (the revision it reflects). */
interface ReadAnswer {
  readonly revision: number;
  readonly found: Observed | null;
  readonly source?: ReadSource;
}

/** What a write answered: its revision and whether it changed the key. */
interface WriteAnswer {
  readonly revision: number;
  readonly written: boolean;
  readonly prevModRevision?: number;
}

/** One way to reach the store: Global itself, a linked Local, or a worker attached to a node's Local. */
export interface Api {
  /** The Local it goes through; null for Global. */
  readonly local: string | null;
  read(key: string): Promise<ReadAnswer>;
  put(key: string, value: string): Promise<WriteAnswer>;
  set(key: string, value: string): Promise<WriteAnswer>;
  cas(key: string, value: string, expectedModRevision: number): Promise<WriteAnswer>;
  del(key: string): Promise<WriteAnswer>;
}

const observed = (kv: { readonly modRevision: number } | null, value: Uint8Array | null | undefined): Observed | null =>
  kv === null ? null : { value: utf8.decode(value ?? new Uint8Array()), modRevision: kv.modRevision };

/** Writes through a GlobalClient (Global's own, or an attached worker's, whose server is the node's Local). */
function clientWrites(client: GlobalClient): Omit<Api, 'local' | 'read'> {
  return {
    put: async (key, value) => {
      const r = await client.txn({ success: [{ kind: 'put', key, value: text.encode(value) }] });
      return { revision: r.revision, written: true };
    },
    set: async (key, value) => ({ revision: (await client.set(key, text.encode(value))).kv.modRevision, written: true }),
    cas: async (key, value, expected) => {
      const r = await client.txn({ compares: [{ key, target: 'modRevision', operator: 'equal', number: expected }], success: [{ kind: 'put', key, value: text.encode(value) }] });
      return { revision: r.revision, written: r.succeeded };
    },
    del: async (key) => {
      const r = await client.delete(key);
      return { revision: r.revision, written: r.deleted, ...(r.prev === null ? {} : { prevModRevision: r.prev.modRevision }) };
    },
  };
}

/** Straight to Global: linearizable gets and the client's writes. */
export function globalApi(client: GlobalClient): Api {
  return {
    local: null,
    read: async (key) => {
      const r = await client.get(key);
      return { revision: r.revision, found: observed(r.kv, r.kv?.value) };
    },
    ...clientWrites(client),
  };
}

/** Through a Local linked in this process: Local.read, and the Local's writes (applied to its cache). */
export function linkedApi(name: string, local: Local): Api {
  return {
    local: name,
    read: async (key) => {
      const r = await local.read(key);
      return { revision: r.revision, found: r.found === null ? null : observed(r.found.kv, r.found.value), source: r.source };
    },
    put: async (key, value) => {
      const r = await local.txn({ success: [{ kind: 'put', key, value: text.encode(value) }] });
      return { revision: r.revision, written: true };
    },
    set: async (key, value) => ({ revision: (await local.set(key, text.encode(value))).kv.modRevision, written: true }),
    cas: async (key, value, expected) => {
      const r = await local.replace(key, text.encode(value), { ifModRevision: expected });
      return { revision: r.revision, written: r.replaced };
    },
    del: async (key) => {
      const r = await local.del(key);
      return { revision: r.revision, written: r.deleted, ...(r.prev === null ? {} : { prevModRevision: r.prev.modRevision }) };
    },
  };
}

/**
 * Through a worker attached to a node's Local: the worker's own Local (its bindings fed by the
 * node; writes forwarded through the node and applied to both caches). A read the worker did
 * not serve itself was served by the node (its cache, or Global), so it is checked as a cached
 * read ('local'), not as Global's.
 */
export function attachedApi(name: string, worker: AttachedLocal): Api {
  return {
    ...linkedApi(name, worker.local),
    read: async (key) => {
      const r = await worker.read(key);
      return { revision: r.revision, found: r.found === null ? null : observed(r.found.kv, r.found.value), source: r.source === 'cache' ? 'cache' : 'local' };
    },
  };
}

/** The history being recorded, and the clock every time in it comes from. */
export class Recorder {
  readonly ops: Op[] = [];
  private readonly originMs = performance.now();
  private nextId = 1;

  now(): number {
    return performance.now() - this.originMs;
  }

  async read(process: string, api: Api, key: string): Promise<ReadAnswer | null> {
    const invokeMs = this.now();
    const base = { id: this.nextId++, process, local: api.local, key, kind: 'read' as const };
    try {
      const a = await api.read(key);
      this.ops.push({ ...base, invokeMs, completeMs: this.now(), outcome: 'ok', revision: a.revision, found: a.found, ...(a.source === undefined ? {} : { source: a.source }) } satisfies ReadOp);
      return a;
    } catch (err) {
      this.ops.push({ ...base, invokeMs, completeMs: this.now(), outcome: 'unknown', error: errorCode(err) } satisfies ReadOp);
      return null;
    }
  }

  async write(process: string, api: Api, op: Pick<WriteOp, 'kind' | 'key' | 'value' | 'expectedModRevision'>): Promise<WriteAnswer | null> {
    const invokeMs = this.now();
    const base = { id: this.nextId++, process, local: api.local, ...op };
    try {
      const { key, value, expectedModRevision } = op;
      const a = op.kind === 'put' ? await api.put(key, value!) : op.kind === 'set' ? await api.set(key, value!) : op.kind === 'cas' ? await api.cas(key, value!, expectedModRevision!) : await api.del(key);
      this.ops.push({ ...base, invokeMs, completeMs: this.now(), outcome: 'ok', ...a } satisfies WriteOp);
      return a;
    } catch (err) {
      // Only a refused set is known not to have happened; any other error leaves the outcome open.
      const outcome = err instanceof KeyOccupiedError ? 'fail' : 'unknown';
      this.ops.push({ ...base, invokeMs, completeMs: this.now(), outcome, error: errorCode(err) } satisfies WriteOp);
      return null;
    }
  }
}

function errorCode(err: unknown): string {
  return err instanceof DstoreError ? err.code : `not a DstoreError: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
}

/** Client loops that run until stopped; each draws keys and operations from its own seeded PRNG. */
export class Workload {
  private stopped = false;
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly recorder: Recorder,
    private readonly seed: number,
    private readonly readPauseMs: number,
  ) {}

  /** A writer: put, set, cas (after reading the key it compares) or delete, one at a time. */
  writer(name: string, api: Api): void {
    const random = new SplitMix32(this.seed ^ hashName(name));
    let seq = 0;
    this.loops.push((async () => {
      while (!this.stopped) {
        const key = KEYS[random.nextInt(KEYS.length)]!;
        const value = `${name}-${++seq}`;
        const dice = random.nextInt(4);
        if (dice === 0) await this.recorder.write(name, api, { kind: 'put', key, value });
        else if (dice === 1) await this.recorder.write(name, api, { kind: 'set', key, value });
        else if (dice === 2) await this.recorder.write(name, api, { kind: 'delete', key });
        else {
          const seen = await this.recorder.read(name, api, key);
          if (seen !== null) await this.recorder.write(name, api, { kind: 'cas', key, value, expectedModRevision: seen.found?.modRevision ?? 0 });
        }
      }
    })());
  }

  /** A reader: reads a random key, pauses `readPauseMs` (so hits do not flood the history), again. */
  reader(name: string, api: Api): void {
    const random = new SplitMix32(this.seed ^ hashName(name));
    this.loops.push((async () => {
      while (!this.stopped) {
        await this.recorder.read(name, api, KEYS[random.nextInt(KEYS.length)]!);
        await delay(this.readPauseMs);
      }
    })());
  }

  /** Stops every loop after its current operation; resolves when all have. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h;
}
