// `global.ts status`: asks every member of a cluster for its Status (dstore.v1.Global/Status)
// and shows the cluster as a table for people or JSON for scripts.
//
// Members are the addresses given plus every member any answer lists, so naming one live
// replica is enough. Lag is counted against the highest decided instance any member reported
// (the leader's, when it answers): how many instances a member still has to apply.
// `fetchClusterStatus` does the I/O; `summarize` and `formatTable` are pure.

import type * as grpc from '@grpc/grpc-js';
import { fromGrpcError } from '../../protocol/grpc-status.ts';
import type { GlobalClient as WireGlobalClient } from '../../protocol/generated/dstore/v1/Global.ts';
import type { StatusResponse__Output } from '../../protocol/generated/dstore/v1/StatusResponse.ts';
import { dstoreProto } from '../../protocol/proto.ts';
import { clientChannel, type ClientSecurity } from '../../protocol/tls.ts';

/** One member as seen by the status command. */
export interface MemberStatus {
  readonly id: number;
  readonly address: string;
  /** Null when it did not answer (then `error` says why). */
  readonly status: {
    readonly version: string;
    readonly isLeader: boolean;
    /** Started without its consensus state and does not vote yet (docs/operations.md). */
    readonly recovering: boolean;
    /** Times its supervisor (global.ts --cluster) restarted it. */
    readonly restarts: number;
    readonly leaderId: number;
    readonly decidedInstance: number;
    readonly appliedInstance: number;
    readonly appliedRevision: number;
    readonly keyCount: number;
    readonly walBytes: number;
    readonly blobBytes: number;
    /** Peers this member has a working stream to, out of its other members. */
    readonly peersConnected: number;
    readonly peersTotal: number;
  } | null;
  readonly error: string | null;
}

export interface ClusterStatus {
  readonly members: readonly (MemberStatus & { readonly lagInstances: number | null })[];
  /** The leader every answering member names, or null when none or they disagree. */
  readonly leaderId: number | null;
  readonly answering: number;
  /** Every member answered, none is recovering, and all name the same leader, which answered as leader. */
  readonly healthy: boolean;
}

function statusOf(client: WireGlobalClient, deadlineMs: number): Promise<StatusResponse__Output> {
  return new Promise((resolve, reject) => {
    client.Status({ withChecksum: false }, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res?: StatusResponse__Output) => {
      if (err !== null) reject(fromGrpcError(err));
      else if (res === undefined) reject(new Error('empty Status answer'));
      else resolve(res);
    });
  });
}

/**
 * Asks `addresses` (and every member their answers list) for Status, each within
 * `deadlineMs`. Never rejects: an unreachable member is a row with its error.
 */
export async function fetchClusterStatus(addresses: readonly string[], security: ClientSecurity, deadlineMs = 3000): Promise<MemberStatus[]> {
  const channel = clientChannel(security);
  const Global = dstoreProto().dstore.v1.Global;
  const asked = new Map<string, Promise<{ address: string; status: StatusResponse__Output | null; error: string | null }>>();
  const ask = (address: string): void => {
    if (asked.has(address)) return;
    const client = new Global(address, channel.credentials, { ...channel.options, 'grpc.enable_retries': 0 });
    asked.set(address, statusOf(client, deadlineMs).then(
      (status) => ({ address, status, error: null }),
      (err: unknown) => ({ address, status: null, error: err instanceof Error ? err.message : String(err) }),
    ).finally(() => client.close()));
  };
  for (const a of addresses) ask(a);
  // Answers may name members not asked yet: ask them too, until nothing new turns up.
  const ids = new Map<string, number>();
  for (let settled = 0; settled < asked.size;) {
    const answers = await Promise.all([...asked.values()]);
    settled = answers.length;
    for (const a of answers) for (const m of a.status?.members ?? []) {
      ids.set(m.address, m.id);
      ask(m.address);
    }
  }
  const answers = await Promise.all([...asked.values()]);
  for (const a of answers) if (a.status !== null) ids.set(a.address, a.status.replicaId);
  return answers.map((a): MemberStatus => {
    const s = a.status;
    const others = s?.members.filter((m) => m.id !== s.replicaId) ?? [];
    return {
      id: ids.get(a.address) ?? 0,
      address: a.address,
      error: a.error,
      status: s === null ? null : {
        version: s.version,
        isLeader: s.isLeader,
        recovering: s.recovering,
        restarts: s.restarts,
        leaderId: s.leaderId,
        decidedInstance: s.decidedInstance,
        appliedInstance: s.appliedInstance,
        appliedRevision: s.appliedRevision,
        keyCount: s.keyCount,
        walBytes: s.walBytes,
        blobBytes: s.blobBytes,
        peersConnected: others.filter((m) => m.connected).length,
        peersTotal: others.length,
      },
    };
  }).sort((x, y) => x.id - y.id || x.address.localeCompare(y.address));
}

/** Adds lag and the cluster-wide verdict. Pure. */
export function summarize(members: readonly MemberStatus[]): ClusterStatus {
  const up = members.filter((m) => m.status !== null);
  const decidedMax = Math.max(0, ...up.map((m) => m.status!.decidedInstance));
  const leaders = new Set(up.map((m) => m.status!.leaderId));
  const named = leaders.size === 1 ? [...leaders][0]! : 0;
  const leaderId = named !== 0 ? named : null;
  const leaderAnswered = up.some((m) => m.id === leaderId && m.status!.isLeader);
  return {
    members: members.map((m) => ({ ...m, lagInstances: m.status === null ? null : Math.max(0, decidedMax - m.status.appliedInstance) })),
    leaderId,
    answering: up.length,
    healthy: up.length === members.length && leaderId !== null && leaderAnswered && up.every((m) => !m.status!.recovering),
  };
}

/** 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The table people read: a summary line, then one row per member. Pure. */
export function formatTable(cluster: ClusterStatus): string {
  const header = ['ID', 'ADDRESS', 'ROLE', 'DECIDED', 'APPLIED', 'REVISION', 'LAG', 'KEYS', 'WAL', 'BLOBS', 'PEERS', 'RESTARTS', 'VERSION'];
  const rows = cluster.members.map((m) => {
    const s = m.status;
    if (s === null) return [String(m.id || '?'), m.address, 'DOWN', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-'];
    return [
      String(m.id),
      m.address,
      s.isLeader ? 'leader' : s.recovering ? 'recovering' : 'follower',
      String(s.decidedInstance),
      String(s.appliedInstance),
      String(s.appliedRevision),
      String(m.lagInstances ?? '-'),
      String(s.keyCount),
      formatBytes(s.walBytes),
      formatBytes(s.blobBytes),
      `${s.peersConnected}/${s.peersTotal}`,
      String(s.restarts),
      s.version,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const leader = cluster.leaderId === null ? 'no agreed leader' : `leader ${cluster.leaderId}`;
  const verdict = cluster.healthy ? 'healthy' : 'DEGRADED';
  const members = cluster.members.length === 1 ? '1 member' : `${cluster.members.length} members`;
  const out = [`cluster: ${members}, ${cluster.answering} answering, ${leader}: ${verdict}`, line(header), ...rows.map(line)];
  for (const m of cluster.members) if (m.error !== null) out.push(`  ${m.address}: ${m.error}`);
  return out.join('\n');
}

/** The JSON scripts read (one object; byte counts and instances as numbers). Pure. */
export function formatJson(cluster: ClusterStatus): string {
  return JSON.stringify(cluster, null, 2);
}
