// The one receive limit of a dstore gRPC server (grpc.max_receive_message_length). grpc-js
// refuses a message from its 5-byte length prefix when it is over this limit (RESOURCE_EXHAUSTED)
// before buffering it, so the limit bounds what any caller can make a server hold per call.
// It is the configured request limit plus a margin for framing, and never below what a blob,
// snapshot or peer frame message needs (each is cut to CHUNK_BYTES_MAX of payload).

/** Payload bytes per blob chunk, snapshot chunk and peer frame (or frame fragment) at most. */
export const CHUNK_BYTES_MAX = 1024 * 1024;
/** Room above the payload for a message's own fields and framing. */
export const RECEIVE_MARGIN_BYTES = 64 * 1024;

/** The server's grpc.max_receive_message_length for a request limit (limits.request_bytes_max). */
export function receiveBytesMax(requestBytesMax: number): number {
  return Math.max(requestBytesMax, CHUNK_BYTES_MAX) + RECEIVE_MARGIN_BYTES;
}
