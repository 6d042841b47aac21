// Replica-to-replica consensus traffic over gRPC (docs/architecture.md, "Transport").
//
// Each replica dials every peer once and keeps one long-lived `Replica.Exchange` stream to
// it, on which it sends its own messages; it receives a peer's messages on the stream that
// peer dialled. Messages handed to `send` in one turn of the event loop go out as one
// PeerFrame. A lost connection is redialled with backoff; messages for an unreachable peer
// are dropped (consensus retransmits what matters), and the queue per peer is bounded: it
// only holds what a busy stream (write() said wait) has not taken yet. Frames are cut to fit
// the receiver's message limit (peer-frames.ts).
//
// The same streams carry client requests a follower forwards to the leader (forwarder.ts): a
// ForwardedRequest goes out on the follower's own stream to the leader, and the leader's
// answer comes back on that stream's other direction, so a request and its answer share one
// connection and one hello (cluster id, replica ids, certificate) like consensus traffic.

import * as grpc from '@grpc/grpc-js';
import { Backoff, BACKOFF_DEFAULTS, type Clock, type Random as BackoffRandom, type Timer } from '../../protocol/backoff.ts';
import { DstoreError, InvalidArgumentError, ResourceExhaustedError, UnauthenticatedError, UnavailableError } from '../../protocol/errors.ts';
import type { PeerFrame, PeerFrame__Output } from '../../protocol/generated/dstore/v1/PeerFrame.ts';
import type { ReplicaClient } from '../../protocol/generated/dstore/v1/Replica.ts';
import type { ConsensusMessage } from '../../protocol/generated/dstore/v1/ConsensusMessage.ts';
import type { ClientRequest, ClientRequest__Output } from '../../protocol/generated/dstore/v1/ClientRequest.ts';
import type { ServerResponse, ServerResponse__Output } from '../../protocol/generated/dstore/v1/ServerResponse.ts';
import { toErrorDetail, toGrpcStatus } from '../../protocol/grpc-status.ts';
import { dstoreProto } from '../../protocol/proto.ts';
import type { Message } from '../../consensus/index.ts';
import { decodePeerMessage, encodePeerMessage } from './peer-codec.ts';
import type { PeerIdentity } from './peer-identity.ts';
import { forwardFrames, framesOf, PEER_MESSAGE_BYTES_MAX, Reassembly } from './peer-frames.ts';

export { PEER_MESSAGE_BYTES_MAX };

export const PROTOCOL_VERSION = 1;
/** Metadata on peer calls other than Exchange (blobs, snapshots) naming the caller's cluster. */
export const CLUSTER_ID_METADATA = 'dstore-cluster-id';
/** The answer to a peer call naming another cluster. It never echoes this replica's cluster
 *  id: error texts go to whoever called, and the id must not be learnt by asking. */
export const CLUSTER_MISMATCH = 'cluster id does not match this replica\'s: check --cluster-id and the --peers list';
/** Messages queued for one peer at most while its stream is busy or down. */
export const PEER_QUEUE_MESSAGES_MAX = 10_000;
/** Most consensus messages in one PeerFrame a replica accepts (a sender's queue is smaller). */
export const PEER_FRAME_MESSAGES_MAX = 2 * PEER_QUEUE_MESSAGES_MAX;
/**
 * Forwarded requests one peer may have unanswered here at most (the leader's side); beyond it
 * they are answered RESOURCE_EXHAUSTED at once. Above any follower's own cap (forwarder.ts).
 */
export const FORWARDED_IN_FLIGHT_PER_PEER_MAX = 65_536;

export const PEER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': PEER_MESSAGE_BYTES_MAX,
  'grpc.max_send_message_length': PEER_MESSAGE_BYTES_MAX,
  // grpc-js backs off reconnects to an address up to 120 s of its own; a peer that was down a
  // few seconds was then dialled again 2-4 s after it was back, and meanwhile it counted for
  // no quorum (a second fault stalled every write). Our own redial backoff (below) is the one.
  'grpc.initial_reconnect_backoff_ms': 50,
  'grpc.max_reconnect_backoff_ms': BACKOFF_DEFAULTS.backoffMaxMs,
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
  /** Checks that a caller's certificate names the host of the replica its hello claims (peer-identity.ts). */
  readonly identity?: PeerIdentity;
  /**
   * Runs a request a peer forwarded (this replica is believed to lead) and resolves with the
   * response body (an `error` body for a failure; a rejection is answered as one). Without it
   * forwarded requests are answered UNAVAILABLE.
   */
  readonly onForwarded?: (peerId: number, request: ClientRequest__Output, timeoutMs: number) => Promise<Omit<ServerResponse, 'id'>>;
  /** Called with each answer to a request this replica forwarded to `peerId`. */
  readonly onForwardReply?: (peerId: number, response: ServerResponse__Output) => void;
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
    for (const frame of framesOf(messages)) peer.writable = peer.call.write(frame) && peer.writable;
  }

  /**
   * Sends a client request to `peerId` (the leader) as ForwardedRequest `request.id`, with
   * `timeoutMs` left of its deadline. False when our stream to it is not up: nothing was sent.
   */
  forward(peerId: number, request: ClientRequest, timeoutMs: number): boolean {
    const peer = this.outbound.get(peerId);
    if (peer === undefined || this.closed || peer.state !== 'ready' || peer.call === null) return false;
    for (const frame of forwardFrames({ request, timeoutMs })) peer.writable = peer.call.write(frame) && peer.writable;
    return true;
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
      // The peer's frames to us on our stream: its hello (the handshake succeeded), then only
      // answers to requests we forwarded.
      if (frame.hello !== null && peer.state === 'connecting') {
        peer.state = 'ready';
        peer.backoff.reset();
        this.options.onPeerState?.(peer.peerId, true);
        this.flush(peer);
      }
      if (peer.state !== 'ready' || peer.call !== call) return;
      for (const response of frame.forwardedReplies) this.options.onForwardReply?.(peer.peerId, response);
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

  /**
   * The server side of Exchange: a peer's stream carrying its messages to us. The first
   * frame must be a hello naming this cluster, this replica, a member and our protocol
   * version (else FAILED_PRECONDITION), from a caller whose certificate names that member's
   * host (else UNAUTHENTICATED; with TLS, peer-identity.ts); a frame that does not decode or carries a malformed
   * message ends the stream with INVALID_ARGUMENT. Either way only this stream closes, the
   * messages before the bad one stand, and the peer redials.
   */
  handleExchange(call: grpc.ServerDuplexStream<PeerFrame__Output, PeerFrame>): void {
    let peerId = 0;
    let refused = false;
    let ended = false;
    let forwardedInFlight = 0;
    const reassembly = new Reassembly();
    /** Answers a forwarded request on this stream, the one it came on. */
    const answer = (response: ServerResponse): void => {
      forwardedInFlight--;
      if (!ended && !refused && !call.writableEnded && !call.destroyed) call.write({ messages: [], forwardedReplies: [response] });
    };
    const runForwarded = (request: ClientRequest__Output, timeoutMs: number): void => {
      const id = request.id;
      forwardedInFlight++;
      const onForwarded = this.options.onForwarded;
      if (onForwarded === undefined || forwardedInFlight > FORWARDED_IN_FLIGHT_PER_PEER_MAX) {
        const why = onForwarded === undefined
          ? new UnavailableError(`replica ${this.options.selfId} does not serve forwarded requests: not run; retry`)
          : new ResourceExhaustedError(`replica ${peerId} has ${FORWARDED_IN_FLIGHT_PER_PEER_MAX} requests forwarded to replica ${this.options.selfId} unanswered (FORWARDED_IN_FLIGHT_PER_PEER_MAX): not run; retry after a backoff`);
        queueMicrotask(() => answer({ id, error: toErrorDetail(why) }));
        return;
      }
      let result: Promise<Omit<ServerResponse, 'id'>>;
      try {
        result = onForwarded(peerId, request, timeoutMs);
      } catch (err) {
        result = Promise.reject(err instanceof Error ? err : new Error(String(err))); // answered, not a broken stream
      }
      result.then(
        (body) => answer({ ...body, id }),
        (err: unknown) => answer({ id, error: toErrorDetail(err) }),
      );
    };
    const refuse = (code: grpc.status, details: string, metadata = new grpc.Metadata()): void => {
      refused = true;
      call.emit('error', { code, details, metadata });
    };
    this.inbound.add(call);
    const receive = (received: PeerFrame__Output): void => {
      let frame = received;
      if (peerId === 0) {
        const problem = this.helloProblem(frame);
        if (problem !== null) return refuse(grpc.status.FAILED_PRECONDITION, problem);
        const impostor = this.options.identity?.problem(call, frame.hello!.fromReplicaId) ?? null;
        if (impostor !== null) {
          const s = toGrpcStatus(new UnauthenticatedError(impostor));
          return refuse(s.code, s.details, s.metadata);
        }
        peerId = frame.hello!.fromReplicaId;
        call.write(this.hello(peerId));
      } else if (frame.hello !== null && frame.hello.fromReplicaId !== peerId) {
        return refuse(grpc.status.FAILED_PRECONDITION, `replica ${peerId} sent a second hello as replica ${frame.hello.fromReplicaId}`);
      }
      if (Reassembly.isFragment(frame)) {
        let whole: PeerFrame__Output | null;
        try {
          whole = reassembly.add(frame);
        } catch (err) {
          const s = toGrpcStatus(err instanceof DstoreError ? err : new InvalidArgumentError(`replica ${peerId} sent fragments that do not decode as a PeerFrame: ${String(err)}`));
          return refuse(s.code, `from replica ${peerId}: ${s.details}`, s.metadata);
        }
        if (whole === null) return;
        if (whole.hello !== null || Reassembly.isFragment(whole)) return refuse(grpc.status.INVALID_ARGUMENT, `replica ${peerId} sent a fragmented frame carrying a hello or fragments: only messages and forwarded requests may be fragmented`);
        frame = whole;
      }
      if (frame.messages.length > PEER_FRAME_MESSAGES_MAX) {
        return refuse(grpc.status.INVALID_ARGUMENT, `replica ${peerId} sent a frame of ${frame.messages.length} messages, over the limit of ${PEER_FRAME_MESSAGES_MAX}`);
      }
      let decoded: Message[];
      try {
        decoded = frame.messages.map((m) => decodePeerMessage(m, peerId, this.options.selfId));
      } catch (err) {
        const s = toGrpcStatus(err);
        return refuse(s.code, s.details, s.metadata);
      }
      for (const m of decoded) this.options.onMessage(m);
      for (const f of frame.forwarded) {
        if (f.request === null) return refuse(grpc.status.INVALID_ARGUMENT, `replica ${peerId} forwarded a request without a body`);
        runForwarded(f.request, f.timeoutMs);
      }
    };
    call.on('data', (frame: PeerFrame__Output) => {
      if (refused) return;
      // A throw would escape into grpc-js and end the process: it ends this stream instead.
      try {
        receive(frame);
      } catch (err) {
        const s = toGrpcStatus(err);
        refuse(s.code, `from replica ${peerId === 0 ? '(before hello)' : peerId}: ${s.details}`, s.metadata);
      }
    });
    const done = (): void => {
      ended = true;
      this.inbound.delete(call);
    };
    call.on('end', () => {
      done();
      call.end();
    });
    call.on('error', done);
    call.on('cancelled', done);
  }

  /** Why a peer's first frame is not an acceptable hello, or null when it is. */
  private helloProblem(frame: PeerFrame__Output): string | null {
    const h = frame.hello;
    if (h === null) return 'the first PeerFrame must carry a hello';
    if (h.clusterId !== this.options.clusterId) return CLUSTER_MISMATCH;
    if (h.toReplicaId !== this.options.selfId) return `this is replica ${this.options.selfId}, not ${h.toReplicaId}: check the --peers list`;
    if (!this.outbound.has(h.fromReplicaId)) return `replica ${h.fromReplicaId} is not a member of this cluster (members besides this one: ${[...this.outbound.keys()].join(', ')})`;
    if (h.protocolVersion !== PROTOCOL_VERSION) return `protocol version ${h.protocolVersion} is not supported (this replica speaks ${PROTOCOL_VERSION})`;
    return null;
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
