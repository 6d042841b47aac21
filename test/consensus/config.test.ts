// Proves that a replica refuses a bad configuration at construction with a message that names
// the field, the rule and the value given, and derives quorum and lease length correctly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig, leaseTicksFor, validateConfig, type ReplicaConfig } from '../../src/consensus/config.ts';
import { SplitMix32 } from '../../src/consensus/random.ts';
import { Replica } from '../../src/consensus/replica.ts';
import { InvalidArgumentError } from '../../src/protocol/errors.ts';

const base = defaultConfig(1, [1, 2, 3]);

function refuses(patch: Partial<ReplicaConfig>, message: RegExp): void {
  assert.throws(() => new Replica({ ...base, ...patch }, new SplitMix32(1)), (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, `InvalidArgumentError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('consensus config', () => {
  it('accepts the defaults and derives quorum, order and lease', () => {
    const config = validateConfig(defaultConfig(5, [5, 1, 3, 2, 4]));
    assert.equal(config.quorum, 3);
    assert.deepEqual(config.sortedReplicaIds, [1, 2, 3, 4, 5]);
    assert.equal(config.leaseTicks, 8); // floor(9 * 100 / 110)
    assert.equal(validateConfig(defaultConfig(1, [1, 2])).quorum, 2);
    assert.equal(validateConfig(defaultConfig(1, [1])).quorum, 1);
  });

  it('shortens the lease by the drift bound', () => {
    assert.equal(leaseTicksFor(10, 0), 9);
    assert.equal(leaseTicksFor(10, 10), 8);
    assert.equal(leaseTicksFor(10, 100), 4);
    assert.equal(leaseTicksFor(21, 25), 16);
  });

  it('names the bad field, the rule and the value', () => {
    refuses({ replicaId: 4 }, /^consensus config: replicaId must be one of replicaIds \[1,2,3\], got 4$/);
    refuses({ replicaIds: [1, 2, 2] }, /replicaIds must be distinct, got \[1,2,2\]/);
    refuses({ replicaIds: [] }, /replicaIds must be an array of 1 to 31 replica ids, got \[\]/);
    refuses({ replicaIds: [1, 2, 0] }, /each of replicaIds must be an integer in \[1, 65535\], got 0/);
    refuses({ electionTimeoutTicks: 2 }, /electionTimeoutTicks must be an integer in \[3, 1000000\], got 2/);
    refuses({ electionTimeoutTicks: 2.5 }, /electionTimeoutTicks must be an integer/);
    refuses({ heartbeatIntervalTicks: 5 }, /heartbeatIntervalTicks must be less than electionTimeoutTicks \/ 2 \(5\), got 5/);
    refuses({ clockDriftBoundPercent: 101 }, /clockDriftBoundPercent must be an integer in \[0, 100\], got 101/);
    refuses({ windowInstancesMax: 0 }, /windowInstancesMax must be an integer in \[1, 1000000\], got 0/);
    refuses({ messageEntriesMax: -1 }, /messageEntriesMax must be/);
    refuses({ retryTicks: 0 }, /retryTicks must be/);
    refuses({ electionTimeoutTicks: 5, heartbeatIntervalTicks: 2, clockDriftBoundPercent: 100 }, /electionTimeoutTicks must be large enough that the lease .* outlasts heartbeatIntervalTicks \(2\)/);
  });

  it('allows a short timeout when lease reads are off', () => {
    assert.doesNotThrow(() => validateConfig({ ...base, electionTimeoutTicks: 5, heartbeatIntervalTicks: 2, clockDriftBoundPercent: 100, leaseReadsEnabled: false }));
  });
});
