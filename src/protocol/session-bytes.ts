// Bytes held by Session requests in flight, bounded per stream and over all streams of a
// server (a replica's Global service and a Local's node server count them the same way).
// A frame is held until its last request is answered: its decoded requests share its bytes.
// It is counted as its wire bytes, a bound on its decoded objects and SESSION_REQUEST_HELD_BYTES
// per request; a frame that would take its stream or the server past a cap is refused in band,
// request by request, with RESOURCE_EXHAUSTED (retryable), and the stream goes on. A stream
// holding nothing always takes one frame (the caps are at least request_bytes_max), and so
// does a server holding nothing: a client that waits for its answers always makes progress.

import { checkInteger } from './config-check.ts';
import { decodedBytesBound, encodedBytesBound } from './frame-budget.ts';
import type { ClientFrame__Output } from './generated/dstore/v1/ClientFrame.ts';
import { wireBytesOf } from './request-guard.ts';

/**
 * What one request in flight on a Session holds besides its decoded frame, at most: the
 * promises and closures of its handling, and its answer until it is written.
 */
export const SESSION_REQUEST_HELD_BYTES = 1024;

export interface SessionBytesLimits {
  /** Bytes the frames of one stream may hold with requests unanswered. */
  readonly sessionBytesInFlightMax: number;
  /** As sessionBytesInFlightMax, for all Session streams of the server together. */
  readonly allSessionsBytesInFlightMax: number;
}

/** How the server and its limits are named in a refusal ("this replica", "limits.session_bytes_in_flight_max"). */
export interface SessionBytesNames {
  readonly where: string;
  readonly sessionBytesInFlightMax: string;
  readonly allSessionsBytesInFlightMax: string;
}

/** Throws InvalidArgumentError unless each cap takes a frame of `requestBytesMax` (`prefix` names the limits' owner). */
export function checkSessionBytesLimits(prefix: string, l: SessionBytesLimits, requestBytesMax: number): void {
  checkInteger(`${prefix}.sessionBytesInFlightMax`, l.sessionBytesInFlightMax, requestBytesMax);
  checkInteger(`${prefix}.allSessionsBytesInFlightMax`, l.allSessionsBytesInFlightMax, l.sessionBytesInFlightMax);
}

/** What `frame` holds while its requests are in flight (its wire bytes when the request guard saw them). */
export function frameHeldBytes(frame: ClientFrame__Output): number {
  return (wireBytesOf(frame) ?? encodedBytesBound(frame.requests)) + decodedBytesBound(frame.requests) + frame.requests.length * SESSION_REQUEST_HELD_BYTES;
}

/** A frame taken (release once per request; the bytes return with the last), or why not. */
export type FrameAdmission = { readonly release: () => void; readonly refusal: null } | { readonly release: null; readonly refusal: string };

/** The bytes all Session streams of one server hold; `stream()` opens one stream's account. */
export class SessionBytesInFlight {
  private allHeld = 0;

  constructor(
    private readonly limits: SessionBytesLimits,
    private readonly names: SessionBytesNames,
  ) {}

  /** Bytes held by Session frames with requests unanswered, all streams together. */
  get bytesHeld(): number {
    return this.allHeld;
  }

  /** The account of a new stream: `admit(frame)` for each frame it sends. */
  stream(): { admit: (frame: ClientFrame__Output) => FrameAdmission } {
    let held = 0;
    const admit = (frame: ClientFrame__Output): FrameAdmission => {
      const requests = frame.requests.length;
      // An empty frame has no answer to release it: it holds nothing.
      if (requests === 0) return { release: () => undefined, refusal: null };
      const bytes = frameHeldBytes(frame);
      const refusal = this.refusal(bytes, held);
      if (refusal !== null) return { release: null, refusal };
      held += bytes;
      this.allHeld += bytes;
      let unanswered = requests;
      const release = (): void => {
        if (unanswered === 0 || --unanswered > 0) return;
        held -= bytes;
        this.allHeld -= bytes;
      };
      return { release, refusal: null };
    };
    return { admit };
  }

  /** Why a frame of `bytes` cannot be taken now by a stream holding `held` bytes, or null. */
  private refusal(bytes: number, held: number): string | null {
    const { limits: l, names: n } = this;
    if (held > 0 && held + bytes > l.sessionBytesInFlightMax) {
      return `this Session holds ${held} bytes of requests not answered yet; a frame of ${bytes} bytes more would pass ${l.sessionBytesInFlightMax} (${n.sessionBytesInFlightMax}): read answers before sending more, then retry`;
    }
    if (this.allHeld > 0 && this.allHeld + bytes > l.allSessionsBytesInFlightMax) {
      return `Sessions on ${n.where} hold ${this.allHeld} bytes of requests not answered yet; a frame of ${bytes} bytes more would pass ${l.allSessionsBytesInFlightMax} (${n.allSessionsBytesInFlightMax}): retry shortly, or send smaller frames`;
    }
    return null;
  }
}
