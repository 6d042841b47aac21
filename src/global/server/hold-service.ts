// Strict holds on the leader (global.proto `Hold`, docs/coherence.md `strict`): serves the
// Hold streams of Locals, and gates every write (`gate`) on the invalidation of the keys it
// touches at every live holder (holders.ts). Off unless the server is given holderLeaseMs.
//
// A keep-alive is answered only while this replica leads under a valid consensus lease: then
// no other leader exists, and one elected later waits out its grace period (holders.ts)
// before completing a write, by which time every hold answered here has run out.

import type * as grpc from '@grpc/grpc-js';
import { DstoreError, InvalidArgumentError, NotLeaderError, UnavailableError } from '../../protocol/errors.ts';
import { toGrpcStatus } from '../../protocol/grpc-status.ts';
import type { Clock, Timer } from '../../protocol/backoff.ts';
import type { HoldRequest__Output } from '../../protocol/generated/dstore/v1/HoldRequest.ts';
import type { HoldResponse } from '../../protocol/generated/dstore/v1/HoldResponse.ts';
import type { TxnOp__Output } from '../../protocol/generated/dstore/v1/TxnOp.ts';
import type { TxnRequest__Output } from '../../protocol/generated/dstore/v1/TxnRequest.ts';
import { HolderRegistry } from './holders.ts';
import type { ReplicaNode } from '../replica/replica-node.ts';

export interface HoldServiceConfig {
  /** How long a Local may serve strict keys after sending an answered keep-alive; 0 turns holds off. */
  readonly holderLeaseMs: number;
  /** The consensus lease's drift bound (docs/consensus.md), applied to holds too. */
  readonly clockDriftBoundPercent: number;
}

type HoldNode = Pick<ReplicaNode, 'status' | 'hasLiveLeader' | 'leaderAddress' | 'linearizableBarrier'>;

/** The keys a transaction may write (both branches: which one runs is decided when applied). */
export function writtenKeys(txn: TxnRequest__Output): string[] {
  const keys = new Set<string>();
  const add = (ops: readonly TxnOp__Output[]): void => {
    for (const op of ops) {
      const key = op.put?.key ?? op.putIfAbsent?.key ?? op.delete?.key ?? op.listAppend?.key ?? op.mapStore?.key ?? op.mapDelete?.key ?? op.add?.key;
      if (key !== undefined) keys.add(key);
    }
  };
  add(txn.success);
  add(txn.failure);
  return [...keys];
}

export class HoldService {
  private registry: HolderRegistry | null = null;
  /** The ballot `registry` belongs to: a new leadership starts a new table (and grace). */
  private epoch = '';
  private readonly streams = new Map<string, { send: (msg: HoldResponse) => void; end: (err: DstoreError) => void }>();
  /** Per invalidation id: re-checks whether its write may go on. */
  private readonly waiters = new Map<number, () => void>();

  constructor(
    private readonly node: HoldNode,
    private readonly clock: Clock,
    readonly config: HoldServiceConfig,
  ) {
    if (!Number.isInteger(config.holderLeaseMs) || config.holderLeaseMs < 0) {
      throw new InvalidArgumentError(`holderLeaseMs ${config.holderLeaseMs} is not a whole number of ms >= 0: give e.g. 1000, or 0 to turn strict holds off`);
    }
  }

  get enabled(): boolean {
    return this.config.holderLeaseMs > 0;
  }

  /**
   * Called on every leader change: a new leadership starts its grace period now rather than at
   * its first write (it may only start later than the election: that is the safe side).
   */
  noticeLeadership(): void {
    if (this.enabled) this.current();
  }

  /** The end of this leadership's grace period (ms on the clock), or null when not leading. */
  get graceUntilMs(): number | null {
    return this.enabled ? (this.current()?.graceUntilMs ?? null) : null;
  }

  /** The table of this leadership, or null when not leading (every stream is then ended). */
  private current(): HolderRegistry | null {
    const s = this.node.status();
    const epoch = s.role === 'leader' ? `${s.promised.round}.${s.promised.replicaId}` : '';
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.registry = epoch === '' ? null : new HolderRegistry(this.config.holderLeaseMs, this.config.clockDriftBoundPercent, this.clock.nowMs());
      const err = this.notLeader();
      for (const stream of [...this.streams.values()]) stream.end(err);
      this.streams.clear();
      for (const recheck of [...this.waiters.values()]) recheck();
    }
    return this.registry;
  }

  private notLeader(): NotLeaderError {
    const hint = this.node.leaderAddress();
    return new NotLeaderError(`this replica does not lead under a valid lease, so it cannot grant strict holds: ${hint === '' ? 'retry shortly (election in progress)' : `hold at the leader, ${hint}`}`, hint);
  }

  /**
   * Resolves when a write of `keys` may be proposed: after this leadership's grace period,
   * and once every live holder of one of them dropped it or its hold ran out. Returns
   * `finish`, to call once the write was applied (with its revision) or failed (null).
   * UnavailableError (retryable) when leadership changed meanwhile.
   */
  async gate(keys: readonly string[]): Promise<(appliedRevision: number | null) => void> {
    const none = (): void => {};
    if (!this.enabled || keys.length === 0) return none;
    const registry = this.current();
    if (registry === null) return none; // not leading: the proposal is refused with a hint
    await this.waitFor(() => (this.clock.nowMs() >= registry.graceUntilMs ? null : registry.graceUntilMs), -1);
    if (this.current() !== registry) throw new UnavailableError('leadership changed while a write waited for strict holders: retry (exactly-once with the same write id)');
    const inv = registry.begin(keys, this.clock.nowMs());
    const finish = (appliedRevision: number | null): void => {
      const holders = registry.finish(inv.id);
      if (appliedRevision === null) return;
      for (const holderId of holders) this.streams.get(holderId)?.send({ released: { id: inv.id, revision: appliedRevision } });
    };
    for (const send of inv.sends) this.streams.get(send.holderId)?.send({ invalidate: { id: inv.id, keys: [...send.keys] } });
    try {
      await this.waitFor(() => registry.waitUntilMs(inv.id, this.clock.nowMs()), inv.id);
    } catch (err) {
      finish(null);
      throw err;
    }
    if (this.current() !== registry) {
      finish(null);
      throw new UnavailableError('leadership changed while a write waited for strict holders: retry (exactly-once with the same write id)');
    }
    return finish;
  }

  /** Resolves once `until()` is null, asking again at the time it returns and on every ack of `id`. */
  private waitFor(until: () => number | null, id: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: Timer | null = null;
      const check = (): void => {
        timer?.cancel();
        timer = null;
        const at = until();
        if (at === null || this.registry === null) {
          this.waiters.delete(id);
          resolve();
          return;
        }
        timer = this.clock.setTimer(check, Math.max(1, at - this.clock.nowMs()), true);
      };
      if (id >= 0) this.waiters.set(id, check);
      check();
    });
  }

  /** One Hold stream (global.proto). */
  hold(call: grpc.ServerDuplexStream<HoldRequest__Output, HoldResponse>): void {
    let holderId: string | null = null;
    let registry: HolderRegistry | null = null;
    /** The registration was answered: keep-alives may come. */
    let registered = false;
    let open = true;
    const close = (): void => {
      open = false;
      if (holderId === null) return;
      registry?.detach(holderId);
      if (this.streams.get(holderId)?.end === end) this.streams.delete(holderId);
    };
    const end = (err: DstoreError): void => {
      if (!open) return;
      close();
      const s = toGrpcStatus(err);
      call.emit('error', { code: s.code, details: s.details, metadata: s.metadata });
    };
    const send = (msg: HoldResponse): void => {
      if (open) call.write(msg);
    };
    const kept = (seq: number): void => send({ kept: { seq, leaseMs: this.config.holderLeaseMs } });
    /** The table, if this replica still leads under a valid lease and it is the stream's own. */
    const leading = (): HolderRegistry | null => {
      const current = this.node.hasLiveLeader() ? this.current() : null;
      return current !== null && (registry === null || current === registry) ? current : null;
    };
    call.on('data', (req: HoldRequest__Output) => {
      if (!open) return;
      try {
        if (!this.enabled) throw new InvalidArgumentError('strict holds are off on this cluster: start every replica with holderLeaseMs (e.g. 1000) to use coherence mode "strict"');
        const now = this.clock.nowMs();
        if (req.register) {
          if (holderId !== null) throw new InvalidArgumentError('Hold: register sent twice on one stream: open a new stream to register anew');
          const current = leading();
          if (current === null) throw this.notLeader();
          const sends = current.register(req.register.holderId, req.register.prefixes, now);
          holderId = req.register.holderId;
          registry = current;
          this.streams.set(holderId, { send, end });
          // The writes in flight first: the Local must not count its hold before it knows them.
          for (const s of sends) send({ invalidate: { id: s.id, keys: [...s.keys] } });
          // Answered once this leader applied everything that may have been decided, writes of
          // a previous leader included: what the Local reads from now on is not older than them.
          const seq = req.register.seq;
          this.node.linearizableBarrier().then(() => {
            if (!open) return;
            if (leading() !== current) return end(this.notLeader());
            registered = true;
            kept(seq);
          }, (err: unknown) => end(err instanceof NotLeaderError ? err : new UnavailableError(`Hold register: ${err instanceof Error ? err.message : String(err)}: retry`)));
        } else if (req.keepAlive) {
          if (holderId === null || registry === null || !registered) throw new InvalidArgumentError('Hold: keep_alive before the registration was answered: wait for its Kept');
          if (leading() === null) throw this.notLeader();
          if (!registry.keepAlive(holderId, now)) throw new UnavailableError('Hold: this hold ran out before its keep-alive arrived (writes may have gone ahead without it): register anew');
          kept(req.keepAlive.seq);
        } else if (req.invalidated) {
          if (holderId === null || registry === null) throw new InvalidArgumentError('Hold: invalidated before register: register first');
          registry.acked(holderId, req.invalidated.id);
          this.waiters.get(req.invalidated.id)?.();
        } else {
          throw new InvalidArgumentError('Hold: message has no kind: send register, keep_alive or invalidated');
        }
      } catch (err) {
        end(err instanceof DstoreError ? err : new UnavailableError(`Hold: ${String(err)}`));
      }
    });
    call.on('end', () => {
      if (!open) return;
      close();
      call.end();
    });
    call.on('error', close);
    call.on('cancelled', close);
  }
}
