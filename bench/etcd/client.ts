// The operations bench global drives etcd with, through the etcd3 npm client's raw KV calls
// (no builders, so the client adds as little as it can): the counterparts of our put,
// linearizable get and compare + put.
import { CompareResult, CompareTarget, Etcd3 } from 'etcd3';

export interface EtcdOps {
  put(key: string, value: Uint8Array): Promise<unknown>;
  /** A linearizable (not serializable) single-key range, etcd's default. */
  get(key: string): Promise<unknown>;
  /** Puts `value` if the key's mod revision is below `belowRevision`. */
  txn(key: string, belowRevision: number, value: Uint8Array): Promise<unknown>;
  close(): void;
}

export function etcdOps(endpoint: string): EtcdOps {
  const client = new Etcd3({ hosts: `http://${endpoint}` });
  const bytes = (v: Uint8Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return {
    put: (key, value) => client.kv.put({ key: Buffer.from(key), value: bytes(value) }),
    get: (key) => client.kv.range({ key: Buffer.from(key) }),
    txn: (key, belowRevision, value) => client.kv.txn({
      compare: [{ key: Buffer.from(key), target: CompareTarget.Mod, result: CompareResult.Less, mod_revision: belowRevision }],
      success: [{ request_put: { key: Buffer.from(key), value: bytes(value) } }],
    }),
    close: () => client.close(),
  };
}
