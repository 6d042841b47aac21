// Original file: src/protocol/proto/dstore/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A replica's vote stamp (docs/consensus.md, "A data directory rolled back"): which life of
 * its acceptor state, and how many durable writes recording a vote it made in it. Absent
 * (from a replica that predates stamps) reads as 0, 0.
 */
export interface VoteStamp {
  'incarnation'?: (number | string | Long);
  'voteSeq'?: (number | string | Long);
}

/**
 * A replica's vote stamp (docs/consensus.md, "A data directory rolled back"): which life of
 * its acceptor state, and how many durable writes recording a vote it made in it. Absent
 * (from a replica that predates stamps) reads as 0, 0.
 */
export interface VoteStamp__Output {
  'incarnation': (number);
  'voteSeq': (number);
}
