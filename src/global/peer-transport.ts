// Replica-to-replica consensus traffic over gRPC (DESIGN.md section 5, "Transport").
//
// Each replica dials every peer once and keeps one long-lived `Replica.Exchange` stream to
// it, on which it sends its own messages; it receives a peer's messages on the stream that
// peer dialled. Messages handed to `send` in one turn of the event loop go out as one
// PeerFrame. A lost connection is redialled with backoff; messages for an unreachable peer
// are dropped (consensus retransmits what matters), and the queue per peer is bounded: it
// only holds what a busy stream (write() said wait) has not taken yet.

import * as grpc from '@grpc/grpc-js';
import { Backoff, BACKOFF_DEFAULTS, type Clock, type Random as BackoffRandom, type Timer } from '../protocol/backoff.ts';
import { InvalidArgumentError } from '../protocol/errors.ts';
import type { PeerFrame, PeerFrame__Output } from '../protocol/generated/dstore/v1/PeerFrame.ts';
import type { ReplicaClient } from '../protocol/generated/dstore/v1/Replica.ts';
import type { ConsensusMessage } from '../protocol/generated/dstore/v1/ConsensusMessage.ts';
import { toGrpcStatus } from '../protocol/grpc-status.ts';
import { dstoreProto } from '../protocol/proto.ts';
import type { Message } from '../consensus/index.ts';
import { decodePeerMessage, encodePeerMessage } from './peer-codec.ts';

export const PROTOCOL_VERSION = 1;
/** Metadata on peer calls other than Exchange (blobs, snapshots) naming the caller's cluster. */
export const CLUSTER_ID_METADATA = 'dstore-cluster-id';
/** Messages queued for one peer at most while its stream is busy or down. */
export const PEER_QUEUE_MESSAGES_MAX = 10_000;
/** Largest frame a replica accepts from a peer (an Accept carrying many batched commands). */
export const PEER_MESSAGE_BYTES_MAX = 256 * 1024 * 1024;

export const PEER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': PEER_MESSAGE_BYTES_MAX,
  'grpc.max_send_message_length': PEER_MESSAGE_BYTES_MAX,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
};

export interface PeerTransportOptions {
  readonly selfId: number;
  readonly clusterId: string;
  /** Every other member: replica id -> "host:port". */
  readonly peers: ReadonlyMap<number, string>;
  readonly credentials: grpc.ChannelCredentials;
  readonly clock: Clock;
  readonly random: BackoffRandom;
  /** Called with each well-formed message a peer sends. */
  readonly onMessage: (message: Message) => void;
  /** Called when a peer's stream comes up or goes down (for status and metrics). */
  readonly onPeerState?: (peerId: number, connected: boolean) => void;
}

type OutboundState = 'idle' | 'connecting' | 'ready' | 'backoff' | 'closed';

/** Our stream to one peer. */
class Outbound {
  state: OutboundState = 'idle';
  call: grpc.ClientDuplexStream<PeerFrame, PeerFrame__Output> | null = null;
  queue: ConsensusMessage[] = [];
  dropped = 0;
  flushScheduled = false;
  writable = true;
  retryTimer: Timer | null = null;
  readonly backoff: Backoff;

  constructor(
    readonly peerId: number,
    readonly client: ReplicaClient,
    random: BackoffRandom,
  ) {
    this.backoff = new Backoff({ backoffInitialMs: 50, backoffMaxMs: BACKOFF_DEFAULTS.backoffMaxMs }, random);
  }
}

export class PeerTransport {
  private readonly outbound = new Map<number, Outbound>();
  private readonly inbound = new Set<grpc.ServerDuplexStream<PeerFrame__Output, PeerFrame>>();
  private closed = false;

  constructor(private readonly options: PeerTransportOptions) {
    const Replica = dstoreProto().dstore.v1.Replica;
    for (const [peerId, address] of options.peers) {
      if (peerId === options.selfId) throw new InvalidArgumentError(`peer list contains this replica's own id ${peerId}`);
      const client = new Replica(address, options.credentials, PEER_CHANNEL_OPTIONS);
      this.outbound.set(peerId, new Outbound(peerId, client, options.random));
    }
  }

  /** Starts dialling every peer. */
  start(): void {
    for (const peer of this.outbound.values()) this.dial(peer);
  }

  /** True while our stream to `peerId` is up and the peer has answered our hello. */
  isConnected(peerId: number): boolean {
    return this.outbound.get(peerId)?.state === 'ready';
  }

  /** Queues `message` for its peer; frames go out at the end of this event-loop turn. */
  send(message: Message): void {
    const peer = this.outbound.get(message.to);
    if (peer === undefined || this.closed) return;
    // A peer that is not connected gets nothing: replaying a backlog of stale Accepts and
    // heartbeats when it returns would only delay it; consensus resends what still matters.
    if (peer.state !== 'ready') {
      peer.dropped++;
      return;
    }
    if (peer.queue.length >= PEER_QUEUE_MESSAGES_MAX) {
      peer.queue.shift();
      peer.dropped++;
    }
    peer.queue.push(encodePeerMessage(message));
    if (!peer.flushScheduled) {
      peer.flushScheduled = true;
      queueMicrotask(() => this.flush(peer));
    }
  }

  private flush(peer: Outbound): void {
    peer.flushScheduled = false;
    if (peer.state !== 'ready' || peer.call === null || !peer.writable || peer.queue.length === 0) return;
    const messages = peer.queue;
    peer.queue = [];
    peer.writable = peer.call.write({ messages });
  }

  private hello(peerId: number): PeerFrame {
    return { hello: { clusterId: this.options.clusterId, fromReplicaId: this.options.selfId, toReplicaId: peerId, protocolVersion: PROTOCOL_VERSION }, messages: [] };
  }

  private dial(peer: Outbound): void {
    if (this.closed) return;
    peer.state = 'connecting';
    const call = peer.client.Exchange();
    peer.call = call;
    peer.writable = true;
    call.on('data', (frame: PeerFrame__Output) => {
      // The peer's only frame to us on our stream is its hello: the handshake succeeded.
      if (frame.hello !== null && peer.state === 'connecting') {
        peer.state = 'ready';
        peer.backoff.reset();
        this.options.onPeerState?.(peer.peerId, true);
        this.flush(peer);
      }
    });
    call.on('drain', () => {
      peer.writable = true;
      this.flush(peer);
    });
    const lost = (): void => this.lost(peer, call);
    call.on('error', lost);
    call.on('end', lost);
    call.write(this.hello(peer.peerId));
  }

  private lost(peer: Outbound, call: grpc.ClientDuplexStream<PeerFrame, PeerFrame__Output>): void {
    if (peer.call !== call) return;
    const wasReady = peer.state === 'ready';
    peer.call = null;
    peer.queue = [];
    call.cancel();
    if (this.closed) return;
    if (wasReady) this.options.onPeerState?.(peer.peerId, false);
    peer.state = 'backoff';
    peer.retryTimer = this.options.clock.setTimer(() => {
      peer.retryTimer = null;
      this.dial(peer);
    }, peer.backoff.nextDelayMs(), false);
  }

  /** The server side of Exchange: a peer's stream carrying its messages to us. */
  handleExchange(call: grpc.ServerDuplexStream<PeerFrame__Output, PeerFrame>): void {
    let peerId = 0;
    const refuse = (code: grpc.status, details: string): void => {
      call.emit('error', { code, details, metadata: new grpc.Metadata() });
    };
    this.inbound.add(call);
    call.on('data', (frame: PeerFrame__Output) => {
      if (peerId === 0) {
        const h = frame.hello;
        if (h === null) return refuse(grpc.status.FAILED_PRECONDITION, 'the first PeerFrame must carry a hello');
        if (h.clusterId !== this.options.clusterId) return refuse(grpc.status.FAILED_PRECONDITION, `cluster id ${JSON.stringify(h.clusterId)} is not this cluster's (${JSON.stringify(this.options.clusterId)})`);
        if (h.toReplicaId !== this.options.selfId) return refuse(grpc.status.FAILED_PRECONDITION, `this is replica ${this.options.selfId}, not ${h.toReplicaId}: check the --peers list`);
        if (!this.outbound.has(h.fromReplicaId)) return refuse(grpc.status.FAILED_PRECONDITION, `replica ${h.fromReplicaId} is not a member of this cluster`);
        if (h.protocolVersion !== PROTOCOL_VERSION) return refuse(grpc.status.FAILED_PRECONDITION, `protocol version ${h.protocolVersion} is not supported (this replica speaks ${PROTOCOL_VERSION})`);
        peerId = h.fromReplicaId;
        call.write(this.hello(peerId));
      }
      try {
        for (const m of frame.messages) this.options.onMessage(decodePeerMessage(m, peerId, this.options.selfId));
      } catch (err) {
        const s = toGrpcStatus(err);
        call.emit('error', { code: s.code, details: s.details, metadata: s.metadata });
      }
    });
    const done = (): void => {
      this.inbound.delete(call);
    };
    call.on('end', () => {
      done();
      call.end();
    });
    call.on('error', done);
    call.on('cancelled', done);
  }

  close(): void {
    this.closed = true;
    for (const peer of this.outbound.values()) {
      peer.state = 'closed';
      peer.retryTimer?.cancel();
      peer.call?.cancel();
      peer.call = null;
      peer.client.close();
    }
    for (const call of this.inbound) call.end();
    this.inbound.clear();
  }
}
