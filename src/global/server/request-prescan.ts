// Counting a request's elements on the wire, before it is decoded.
//
// Decoding costs about a microsecond per element (op, compare, list item, hash), so a 16 MiB
// message of a million tiny ops would hold the event loop for seconds before any count limit
// could refuse it. These scans walk the protobuf wire format with a protobufjs Reader,
// skipping every field they do not count (a length-delimited field is skipped in one step),
// and throw TooLargeError at the first limit broken: a scan costs at most a few
// milliseconds per MiB and stops as soon as the answer is known. A message whose framing is
// broken throws InvalidArgumentError; finer checks are the decoder's and codec.ts's.

import protobuf from 'protobufjs';
import { InvalidArgumentError, TooLargeError } from '../../protocol/errors.ts';
import { STRUCTURED_ENTRIES_MAX } from '../../protocol/structured-values.ts';
import { REQUEST_ELEMENTS_MAX, TXN_OPS_MAX, TXN_STRUCTURED_OPS_MAX } from '../replica/codec.ts';

const WIRE_LENGTH_DELIMITED = 2;

// Field numbers (global.proto).
const FRAME_REQUESTS = 1;
const REQUEST_TXN = 5;
const REQUEST_MISSING_BLOBS = 7;
const MISSING_BLOBS_HASHES = 1;
const TXN_COMPARES = 1;
const TXN_SUCCESS = 2;
const TXN_FAILURE = 3;
const OP_LIST_APPEND = 6;
const OP_MAP_STORE = 7;
const OP_MAP_DELETE = 8;
/** items of ListAppend, entries of MapStore, fields of MapDelete. */
const STRUCTURED_ENTRIES = 2;

/** Calls `onField(field, start, end)` for each length-delimited field of bytes[start, end); skips the rest. */
function eachField(bytes: Uint8Array, start: number, end: number, onField: (field: number, start: number, end: number) => void): void {
  const r = protobuf.Reader.create(bytes);
  r.pos = start;
  // A Reader checks its reads against its own length; limit it to this message.
  r.len = end;
  while (r.pos < end) {
    const tag = r.uint32();
    const wireType = tag & 7;
    if (wireType !== WIRE_LENGTH_DELIMITED) {
      r.skipType(wireType);
      continue;
    }
    const length = r.uint32();
    const fieldStart = r.pos;
    // A plain Error, like the decoder's own: the request guard reports it as "does not decode".
    if (length > end - fieldStart) throw new Error(`field ${tag >>> 3} of ${length} bytes runs past the end of its message`);
    r.pos = fieldStart + length;
    onField(tag >>> 3, fieldStart, fieldStart + length);
  }
}

/** Counts elements of a request, shared by every transaction of one frame. */
class Tally {
  private elements = 0;

  /** `message` names the message counted ("frame", "transaction"). */
  constructor(private readonly message: string) {}

  add(n: number): void {
    this.elements += n;
    if (this.elements > REQUEST_ELEMENTS_MAX) {
      throw new TooLargeError(`${this.message} holds more than ${REQUEST_ELEMENTS_MAX} requests, compares, ops, list items, map entries and hashes (REQUEST_ELEMENTS_MAX): send less per message`);
    }
  }
}

function scanTxn(bytes: Uint8Array, start: number, end: number, tally: Tally, what: string): void {
  let ops = 0;
  let structured = 0;
  eachField(bytes, start, end, (field, opStart, opEnd) => {
    if (field !== TXN_COMPARES && field !== TXN_SUCCESS && field !== TXN_FAILURE) return;
    ops++;
    tally.add(1);
    if (ops > TXN_OPS_MAX) throw new TooLargeError(`${what} has more than ${TXN_OPS_MAX} compares and ops (TXN_OPS_MAX): split it`);
    if (field === TXN_COMPARES) return;
    eachField(bytes, opStart, opEnd, (kind, bodyStart, bodyEnd) => {
      if (kind !== OP_LIST_APPEND && kind !== OP_MAP_STORE && kind !== OP_MAP_DELETE) return;
      structured++;
      if (structured > TXN_STRUCTURED_OPS_MAX) {
        throw new TooLargeError(`${what} has more than ${TXN_STRUCTURED_OPS_MAX} list_append, map_store and map_delete ops (TXN_STRUCTURED_OPS_MAX): split it`);
      }
      let entries = 0;
      eachField(bytes, bodyStart, bodyEnd, (f) => {
        if (f !== STRUCTURED_ENTRIES) return;
        entries++;
        tally.add(1);
        if (entries > STRUCTURED_ENTRIES_MAX) {
          throw new TooLargeError(`${what}: an op carries more than ${STRUCTURED_ENTRIES_MAX} list items or map entries (STRUCTURED_ENTRIES_MAX): split it`);
        }
      });
    });
  });
}

/** A unary TxnRequest. Throws TooLargeError for a broken count limit, InvalidArgumentError for broken framing. */
export function prescanTxnRequest(bytes: Uint8Array): void {
  scanTxn(bytes, 0, bytes.byteLength, new Tally('transaction'), 'transaction');
}

/** A unary MissingBlobsRequest: at most `hashesMax` hashes (the message is the decoded handler's). */
export function prescanMissingBlobsRequest(bytes: Uint8Array, hashesMax: number): void {
  let hashes = 0;
  eachField(bytes, 0, bytes.byteLength, (field) => {
    if (field === MISSING_BLOBS_HASHES) hashes++;
  });
  if (hashes > hashesMax) throw new InvalidArgumentError(`missing_blobs asks about ${hashes} hashes, over ${hashesMax}: split it`);
}

/**
 * A Session ClientFrame: at most `requestsMax` requests, each transaction within the
 * transaction limits, and at most REQUEST_ELEMENTS_MAX elements in all.
 */
export function prescanClientFrame(bytes: Uint8Array, requestsMax: number): void {
  // Counting the requests alone is cheap (each is skipped in one step): done first, so the
  // message can say how many.
  let requests = 0;
  eachField(bytes, 0, bytes.byteLength, (field) => {
    if (field === FRAME_REQUESTS) requests++;
  });
  if (requests > requestsMax) {
    throw new InvalidArgumentError(`frame of ${requests} requests is over the limit of ${requestsMax} (limits.frame_requests_max): send smaller frames`);
  }
  const tally = new Tally('frame');
  let index = 0;
  eachField(bytes, 0, bytes.byteLength, (field, start, end) => {
    if (field !== FRAME_REQUESTS) return;
    const what = `frame: request ${index++}`;
    tally.add(1);
    eachField(bytes, start, end, (body, bodyStart, bodyEnd) => {
      if (body === REQUEST_TXN) scanTxn(bytes, bodyStart, bodyEnd, tally, `${what}: transaction`);
      else if (body === REQUEST_MISSING_BLOBS) {
        eachField(bytes, bodyStart, bodyEnd, (f) => {
          if (f === MISSING_BLOBS_HASHES) tally.add(1);
        });
      }
    });
  });
}

/** The prescan of a Global method's request, by method name; other methods need none. */
export function prescanGlobalRequest(method: string, bytes: Uint8Array, frameRequestsMax: number): void {
  switch (method) {
    case 'Txn': return prescanTxnRequest(bytes);
    case 'MissingBlobs': return prescanMissingBlobsRequest(bytes, frameRequestsMax);
    case 'Session': return prescanClientFrame(bytes, frameRequestsMax);
    default: return;
  }
}
