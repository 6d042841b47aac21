// Proves the command-line parsing of examples/global.ts (src/global/cluster/cluster-args.ts) without
// starting anything: the defaults docs/running-global.md promises, each flag combination, and
// every refusal, each with the exact message a user sees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interpretArgs, parseHostPort, parsePeers, type RawArgs } from '../../src/global/cluster/cluster-args.ts';
import { InvalidArgumentError } from '../../src/protocol/errors.ts';

function refused(raw: RawArgs, message: string): void {
  assert.throws(() => interpretArgs(raw), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
}

const PEERS = '1=127.0.0.1:50051,2=127.0.0.1:50052,3=127.0.0.1:50053';

describe('interpretArgs: what it accepts', () => {
  it('with no flags: one replica, id 1, on 127.0.0.1:50051 with data in ./data', () => {
    assert.deepEqual(interpretArgs({}), {
      kind: 'replica',
      replicaId: 1,
      listen: '127.0.0.1:50051',
      members: new Map([[1, '127.0.0.1:50051']]),
      dataDir: './data',
      clusterId: 'dstore',
    });
  });

  it('a lone replica may listen on port 0 (the server picks a free port)', () => {
    const a = interpretArgs({ listen: '127.0.0.1:0', data: '/tmp/x' });
    assert.equal(a.kind, 'replica');
    assert.equal(a.kind === 'replica' && a.listen, '127.0.0.1:0');
    assert.equal(a.dataDir, '/tmp/x');
  });

  it('--id with --peers: members from the list, listens on its own entry, data in ./data/replica-N', () => {
    const a = interpretArgs({ id: '2', peers: PEERS });
    assert.equal(a.kind, 'replica');
    if (a.kind !== 'replica') return;
    assert.equal(a.replicaId, 2);
    assert.equal(a.listen, '127.0.0.1:50052');
    assert.deepEqual([...a.members], [[1, '127.0.0.1:50051'], [2, '127.0.0.1:50052'], [3, '127.0.0.1:50053']]);
    assert.equal(a.dataDir, './data/replica-2');
  });

  it('--listen overrides the bind address (0.0.0.0 while advertising the --peers entry); IPv6 in brackets', () => {
    const a = interpretArgs({ id: '1', peers: PEERS, listen: '0.0.0.0:50051', 'cluster-id': 'blue' });
    assert.equal(a.kind === 'replica' && a.listen, '0.0.0.0:50051');
    assert.equal(a.clusterId, 'blue');
    assert.deepEqual(parseHostPort('[::1]:7000', '--listen'), { host: '[::1]', port: 7000 });
  });

  it('--cluster 3 and 5: consecutive ports from --listen (default 50051)', () => {
    assert.deepEqual(interpretArgs({ cluster: '3' }), { kind: 'cluster', size: 3, host: '127.0.0.1', firstPort: 50051, dataDir: './data', clusterId: 'dstore' });
    assert.deepEqual(interpretArgs({ cluster: '5', listen: '127.0.0.1:7000', data: 'd' }), { kind: 'cluster', size: 5, host: '127.0.0.1', firstPort: 7000, dataDir: 'd', clusterId: 'dstore' });
  });

  it('parsePeers ignores empty entries (a trailing comma)', () => {
    assert.deepEqual([...parsePeers('1=a:1,,2=b:2,')], [[1, 'a:1'], [2, 'b:2']]);
  });
});

describe('interpretArgs: every refusal says what is wrong', () => {
  it('--id', () => {
    for (const id of ['0', '65536', '-1', '1.5', 'two', '', ' 1', '0x1', '1e3']) {
      refused({ id }, `--id must be an integer in 1..65535, got ${JSON.stringify(id)}`);
    }
  });

  it('--listen', () => {
    for (const listen of ['localhost', ':50051', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:-1', '127.0.0.1:5x', '127.0.0.1: 5']) {
      refused({ listen }, `--listen ${JSON.stringify(listen)} is not host:port with port 0..65535 (for example 127.0.0.1:50051)`);
    }
  });

  it('--peers entries', () => {
    refused({ peers: '1=127.0.0.1:1,x=127.0.0.1:2' }, '--peers entry "x=127.0.0.1:2" is not id=host:port with id in 1..65535');
    refused({ peers: '127.0.0.1:1' }, '--peers entry "127.0.0.1:1" is not id=host:port with id in 1..65535');
    refused({ peers: '0=127.0.0.1:1' }, '--peers entry "0=127.0.0.1:1" is not id=host:port with id in 1..65535');
    refused({ peers: '1=127.0.0.1' }, '--peers entry for replica 1 "127.0.0.1" is not host:port with port 0..65535 (for example 127.0.0.1:50051)');
    refused({ peers: '1=127.0.0.1:0' }, '--peers entry for replica 1 has port 0: peers need the real port to dial');
    refused({ peers: '1=a:1,1=b:2' }, '--peers lists replica 1 twice');
    refused({ peers: ',' }, '--peers is empty: give id=host:port for every replica, this one included');
  });

  it('--peers must list this replica, and --listen port 0 cannot go with --peers', () => {
    refused({ id: '4', peers: PEERS }, '--peers does not list this replica (--id 4): include 4=host:port');
    refused({ peers: PEERS.replace('1=', '9=') }, '--peers does not list this replica (--id 1): include 1=host:port');
    refused({ id: '1', peers: PEERS, listen: '127.0.0.1:0' }, '--listen port 0 with --peers: the others dial 127.0.0.1:50051, so listen on that port');
  });

  it('--cluster', () => {
    for (const cluster of ['1', '2', '4', '7', 'three', '', '3.0']) {
      refused({ cluster }, `--cluster must be 3 or 5, got ${JSON.stringify(cluster)}`);
    }
    refused({ cluster: '3', id: '1' }, '--cluster starts every replica itself: drop --id and --peers');
    refused({ cluster: '3', peers: PEERS }, '--cluster starts every replica itself: drop --id and --peers');
    refused({ cluster: '3', listen: '127.0.0.1:0' }, '--cluster 3 cannot use port 0: --listen gives the first of 3 consecutive free ports');
    refused({ cluster: '5', listen: '127.0.0.1:65534' }, '--cluster 5 needs 5 consecutive ports from 65534, past 65535');
    refused({ cluster: '3', listen: 'nowhere' }, '--listen "nowhere" is not host:port with port 0..65535 (for example 127.0.0.1:50051)');
  });

  it('empty --data and --cluster-id', () => {
    refused({ data: '' }, '--data is empty');
    refused({ cluster: '3', data: '' }, '--data is empty');
    refused({ id: '1', peers: PEERS, data: '' }, '--data is empty');
    refused({ 'cluster-id': '' }, '--cluster-id is empty');
  });
});

describe('dstore global --start-check', () => {
  it('is majority by default, every-member on request, and refuses anything else naming both', async () => {
    const { globalCommand } = await import('../../src/cli/global-command.ts');
    assert.equal(globalCommand.check({}, []).startCheckEveryMember, false);
    assert.equal(globalCommand.check({ 'start-check': 'every-member' }, []).startCheckEveryMember, true);
    assert.throws(() => globalCommand.check({ 'start-check': 'all' }, []), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.equal(err.message, '--start-check "all": give majority (the default) or every-member');
      return true;
    });
  });
});
