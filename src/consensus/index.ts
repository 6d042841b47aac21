// The public face of the consensus core: what src/global's driver, the simulator and the
// benches use. Everything else in src/consensus is internal.

export { Replica, EMPTY_RECOVERED_STATE, type ProposeResult, type ReplicaStatus, type Role } from './replica.ts';
export { defaultConfig, leaseTicksFor, validateConfig, type ReplicaConfig, type ValidatedConfig } from './config.ts';
export type { Persist, Ready, ReadState, RollbackDetected, SnapshotRequest } from './ready.ts';
export { vouchesForPersist } from './ready.ts';
export type * from './messages.ts';
export { SplitMix32, type Random } from './random.ts';
export { formatBallot, ballotEquals } from './ballot.ts';
export { NOOP, commandsValue, valuesEqual, valueBytes } from './value.ts';
export * from './types.ts';
