// Proves the public dstore.v1 protocol: the .proto files load, declare the services and
// streaming shapes docs/architecture.md describes, encode and decode batched frames, match the
// committed generated types, and compile with the reference compiler (protoc), which is
// what a client in another language is generated with.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { PROTO_FILES, PROTO_ROOT, dstoreProto } from '../../src/protocol/proto.ts';

const v1 = dstoreProto().dstore.v1;

function methods(service: { service: object }): Record<string, string> {
  const shape: Record<string, string> = {};
  for (const [name, def] of Object.entries(service.service as Record<string, { requestStream: boolean; responseStream: boolean }>)) {
    shape[name] = `${def.requestStream ? 'stream' : 'unary'}->${def.responseStream ? 'stream' : 'unary'}`;
  }
  return shape;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

describe('dstore.v1 protocol', () => {
  it('Global serves the client API with batched streams on the hot path', () => {
    assert.deepEqual(methods(v1.Global), {
      Session: 'stream->stream',
      Get: 'unary->unary',
      Set: 'unary->unary',
      Delete: 'unary->unary',
      Txn: 'unary->unary',
      Range: 'unary->unary',
      PutBlob: 'stream->unary',
      GetBlob: 'unary->stream',
      MissingBlobs: 'unary->unary',
      Subscribe: 'unary->stream',
      Status: 'unary->unary',
      Hold: 'stream->stream',
    });
  });

  it('Replica carries consensus on a long-lived stream and bulk data on separate calls', () => {
    assert.deepEqual(methods(v1.Replica), {
      Exchange: 'stream->stream',
      StoreBlob: 'stream->unary',
      FetchBlob: 'unary->stream',
      FetchSnapshot: 'unary->stream',
    });
  });

  it('round-trips a batched client frame through protobuf', () => {
    const session = (v1.Global.service as unknown as Record<string, {
      requestSerialize(value: unknown): Buffer;
      requestDeserialize(bytes: Buffer): unknown;
    }>)['Session']!;
    const frame = {
      requests: [
        { id: 1, get: { key: 'a', consistency: 'READ_CONSISTENCY_SERIALIZABLE', minRevision: 7, withValue: true } },
        { id: 2, set: { key: 'b', value: { inline: Buffer.from('hello') }, writeId: { clientId: 'c1', requestId: 9 } } },
        {
          id: 3,
          txn: {
            compares: [{ key: 'b', target: 'TARGET_VERSION', operator: 'OPERATOR_EQUAL', number: 1 }],
            success: [{ add: { key: 'n', delta: -5 } }],
            failure: [],
          },
        },
      ],
    };
    const decoded = session.requestDeserialize(session.requestSerialize(frame)) as {
      requests: Array<Record<string, unknown> & { id: number; body: string }>;
    };
    assert.equal(decoded.requests.length, 3);
    const [get, set, txn] = decoded.requests;
    assert.equal(get!.body, 'get');
    assert.deepEqual(get!['get'], { key: 'a', consistency: 'READ_CONSISTENCY_SERIALIZABLE', minRevision: 7, withValue: true });
    assert.equal(set!.body, 'set');
    const setBody = set!['set'] as { value: { inline: Buffer; source: string }; writeId: { requestId: number } };
    assert.equal(setBody.value.source, 'inline');
    assert.equal(setBody.value.inline.toString(), 'hello');
    assert.equal(setBody.writeId.requestId, 9);
    const txnBody = txn!['txn'] as { success: Array<{ op: string; add: { delta: number } }> };
    assert.equal(txnBody.success[0]!.op, 'add');
    assert.equal(txnBody.success[0]!.add.delta, -5);
  });

  it('has generated TypeScript types that match the .proto files (run `npm run proto:gen`)', () => {
    const out = mkdtempSync(join(tmpdir(), 'dstore-proto-gen-'));
    try {
      const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
      const script = pkg.scripts['proto:gen']!;
      const command = script.replace('rm -rf src/protocol/generated && ', '').replace('-O src/protocol/generated', `-O ${out}`);
      execFileSync('sh', ['-c', `PATH="$PWD/node_modules/.bin:$PATH" ${command}`], { stdio: 'pipe' });
      const committed = 'src/protocol/generated';
      const fresh = listFiles(out).map((f) => relative(out, f)).sort();
      assert.deepEqual(listFiles(committed).map((f) => relative(committed, f)).sort(), fresh, 'same files');
      for (const file of fresh) {
        assert.equal(readFileSync(join(committed, file), 'utf8'), readFileSync(join(out, file), 'utf8'), `${file} is stale`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  const protoc = spawnSync('protoc', ['--version']).status === 0;
  it('compiles with protoc for another language (Python)', {
    skip: protoc ? false : 'protoc is not installed here (apt-get install protobuf-compiler); .ci/run installs it so CI runs this',
  }, () => {
    const out = mkdtempSync(join(tmpdir(), 'dstore-protoc-'));
    try {
      execFileSync('protoc', ['-I', PROTO_ROOT, `--python_out=${out}`, ...PROTO_FILES.map((f) => join(PROTO_ROOT, f))], { stdio: 'pipe' });
      assert.deepEqual(readdirSync(join(out, 'dstore', 'v1')).sort(), ['common_pb2.py', 'global_pb2.py', 'replica_pb2.py']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
