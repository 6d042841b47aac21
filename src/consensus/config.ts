// Configuration of one replica, validated once at construction. Every limit
// has its unit in its name; a bad value is refused with a message that names the field, the
// rule and the value given.

import { InvalidArgumentError } from '../protocol/errors.ts';

export const REPLICAS_MAX = 31; // acknowledgements are tracked in 32-bit masks
export const REPLICA_ID_MAX = 0xffff;

export interface ReplicaConfig {
  /** This replica's id: an integer in [1, 65535], listed in `replicaIds`. */
  readonly replicaId: number;
  /** Every member of the group, this replica included: distinct ids, 1..31 of them. */
  readonly replicaIds: readonly number[];
  /**
   * A follower that hears nothing from a leader for this many ticks (plus a random extra of up
   * to the same again) campaigns. It also refuses to help anyone else lead until this many ticks
   * have passed since it last heard from the leader: that is what keeps a live leader in place
   * and what the leader lease stands on.
   */
  readonly electionTimeoutTicks: number;
  /** A leader sends a heartbeat every this many ticks. Less than electionTimeoutTicks / 2. */
  readonly heartbeatIntervalTicks: number;
  /**
   * The largest difference in tick rate between any two replicas, in percent: over any real
   * interval, one replica's tick count is at most (1 + drift/100) times another's. The lease is
   * shortened by this factor. Integer in [0, 100].
   */
  readonly clockDriftBoundPercent: number;
  /** Serve reads from the leader lease when it is valid (else always run a read-index round). */
  readonly leaseReadsEnabled: boolean;
  /** Instances a leader may have proposed beyond its decided prefix (the phase-2 window). */
  readonly windowInstancesMax: number;
  /** Entries carried by one Accept, Promise range or CatchUp message at most. */
  readonly messageEntriesMax: number;
  /** Ticks before an unanswered Prepare, Accept or CatchUpRequest is sent again. */
  readonly retryTicks: number;
  /**
   * A restarted replica votes only once every member confirmed its vote stamp (docs/consensus.md,
   * "A data directory rolled back"): no window for a rolled-back copy, but a replica restarted
   * while another member is down does not vote until that member answers. False (the default):
   * a majority is enough after an election timeout.
   */
  readonly startCheckEveryMember: boolean;
}

/** A config with the derived figures the replica uses; made only by `validateConfig`. */
export interface ValidatedConfig extends ReplicaConfig {
  /** Replicas that form a majority: floor(n/2) + 1. */
  readonly quorum: number;
  /** `replicaIds` sorted ascending; a replica's bit in an ack mask is its index here. */
  readonly sortedReplicaIds: readonly number[];
  /** Ticks after a heartbeat is sent during which a majority's acks make its lease valid. */
  readonly leaseTicks: number;
}

/** Sensible defaults for a group: 10-tick election timeout, 2-tick heartbeats, window of 16. */
export function defaultConfig(replicaId: number, replicaIds: readonly number[]): ReplicaConfig {
  return {
    replicaId,
    replicaIds,
    electionTimeoutTicks: 10,
    heartbeatIntervalTicks: 2,
    clockDriftBoundPercent: 10,
    leaseReadsEnabled: true,
    windowInstancesMax: 16,
    messageEntriesMax: 64,
    retryTicks: 3,
    startCheckEveryMember: false,
  };
}

function fail(field: string, rule: string, value: unknown): never {
  throw new InvalidArgumentError(`consensus config: ${field} must be ${rule}, got ${JSON.stringify(value)}`);
}

function checkInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    fail(field, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`, value);
  }
}

function checkMembers(config: ReplicaConfig): void {
  const ids = config.replicaIds;
  if (!Array.isArray(ids) || ids.length < 1 || ids.length > REPLICAS_MAX) {
    fail('replicaIds', `an array of 1 to ${REPLICAS_MAX} replica ids`, ids);
  }
  for (const id of ids as readonly unknown[]) checkInteger('each of replicaIds', id as number, 1, REPLICA_ID_MAX);
  if (new Set(ids).size !== ids.length) fail('replicaIds', 'distinct', ids);
  checkInteger('replicaId', config.replicaId, 1, REPLICA_ID_MAX);
  if (!ids.includes(config.replicaId)) fail('replicaId', `one of replicaIds ${JSON.stringify(ids)}`, config.replicaId);
}

/**
 * The lease a majority's heartbeat acks buy, in the leader's ticks. A follower that acked a
 * heartbeat refuses other candidates for `electionTimeoutTicks` of its own ticks after receiving
 * it, which is at least (E - 1) of its tick periods (the first tick may come at once), and its
 * ticks may run up to (1 + drift) times faster than the leader's. The heartbeat was received
 * after it was sent, so the leader may count on (E - 1) / (1 + drift) of its own ticks from the
 * send; it counts whole ticks, hence the floor.
 */
export function leaseTicksFor(electionTimeoutTicks: number, clockDriftBoundPercent: number): number {
  return Math.floor(((electionTimeoutTicks - 1) * 100) / (100 + clockDriftBoundPercent));
}

/**
 * Checks every field and derives quorum, member order and lease length.
 * Throws InvalidArgumentError naming the first bad field. Does not keep `config`'s arrays.
 */
export function validateConfig(config: ReplicaConfig): ValidatedConfig {
  checkMembers(config);
  checkInteger('electionTimeoutTicks', config.electionTimeoutTicks, 3, 1_000_000);
  checkInteger('heartbeatIntervalTicks', config.heartbeatIntervalTicks, 1, 1_000_000);
  if (config.heartbeatIntervalTicks * 2 >= config.electionTimeoutTicks) {
    fail('heartbeatIntervalTicks', `less than electionTimeoutTicks / 2 (${config.electionTimeoutTicks / 2})`, config.heartbeatIntervalTicks);
  }
  checkInteger('clockDriftBoundPercent', config.clockDriftBoundPercent, 0, 100);
  if (typeof config.leaseReadsEnabled !== 'boolean') fail('leaseReadsEnabled', 'a boolean', config.leaseReadsEnabled);
  checkInteger('windowInstancesMax', config.windowInstancesMax, 1, 1_000_000);
  checkInteger('messageEntriesMax', config.messageEntriesMax, 1, 1_000_000);
  checkInteger('retryTicks', config.retryTicks, 1, 1_000_000);
  if (typeof config.startCheckEveryMember !== 'boolean') fail('startCheckEveryMember', 'a boolean', config.startCheckEveryMember);
  const leaseTicks = leaseTicksFor(config.electionTimeoutTicks, config.clockDriftBoundPercent);
  if (config.leaseReadsEnabled && leaseTicks <= config.heartbeatIntervalTicks) {
    fail(
      'electionTimeoutTicks',
      `large enough that the lease ((E - 1) * 100 / (100 + clockDriftBoundPercent) = ${leaseTicks} ticks) outlasts heartbeatIntervalTicks (${config.heartbeatIntervalTicks}) when leaseReadsEnabled`,
      config.electionTimeoutTicks,
    );
  }
  const sortedReplicaIds = [...config.replicaIds].sort((a, b) => a - b);
  return Object.freeze({
    ...config,
    replicaIds: Object.freeze([...config.replicaIds]),
    quorum: Math.floor(sortedReplicaIds.length / 2) + 1,
    sortedReplicaIds: Object.freeze(sortedReplicaIds),
    leaseTicks,
  });
}
