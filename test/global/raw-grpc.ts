// Raw gRPC over node:http2 for process tests that measure a server's memory: a message can be
// left half sent (its length prefix promises more than ever arrives) and a stream never read,
// which no gRPC client library does. Also the process's resident set from /proc.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { dstoreRoot } from '../../src/protocol/proto.ts';

export const RESOURCE_EXHAUSTED = 8;
export const UNAVAILABLE = 14;

const root = dstoreRoot();
export const encode = (type: string, message: object): Buffer => {
  const t = root.lookupType(type);
  return Buffer.from(t.encode(t.fromObject(message)).finish());
};
export const decode = (type: string, payload: Buffer): unknown => {
  const t = root.lookupType(type);
  return t.toObject(t.decode(payload));
};
export const grpcMessage = (payload: Buffer): Buffer => {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(payload.byteLength, 1);
  return Buffer.concat([prefix, payload]);
};
/** The 5-byte prefix of a message of `length` bytes and all of its payload but the last byte: it never completes. */
export const halfMessage = (length: number): Buffer => {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(length, 1);
  return Buffer.concat([prefix, Buffer.alloc(length - 1, 1)]);
};

/** The process's peak (VmHWM) or current (VmRSS) resident set, in bytes. */
export function vm(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m !== null, `/proc/${pid}/status has ${field}`);
  return Number(m[1]) * 1024;
}

/** One raw gRPC call on an HTTP/2 connection: its answers' payloads, and its status once ended. */
export class RawStream {
  readonly answers: Buffer[] = [];
  status: { code: number; message: string } | null = null;
  private pending = Buffer.alloc(0);
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly stream: http2.ClientHttp2Stream,
    read: boolean,
  ) {
    const onHeaders = (headers: http2.IncomingHttpHeaders): void => {
      const code = headers['grpc-status'];
      if (code !== undefined) this.status = { code: Number(code), message: decodeURIComponent(String(headers['grpc-message'] ?? '')) };
      this.wake();
    };
    stream.on('response', onHeaders);
    stream.on('trailers', onHeaders);
    stream.on('error', () => undefined);
    if (read) {
      stream.on('data', (chunk: Buffer) => {
        this.pending = Buffer.concat([this.pending, chunk]);
        while (this.pending.byteLength >= 5 && this.pending.byteLength >= 5 + this.pending.readUInt32BE(1)) {
          const length = this.pending.readUInt32BE(1);
          this.answers.push(this.pending.subarray(5, 5 + length));
          this.pending = this.pending.subarray(5 + length);
        }
        this.wake();
      });
    } else {
      stream.pause(); // never read: HTTP/2 flow control holds the server's writes back
    }
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  /** Resolves once `done()` holds; rejects after `timeoutMs` naming `what`. */
  until(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; status ${JSON.stringify(this.status)}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Writes and resolves once the bytes are handed to the connection. */
  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => this.stream.write(bytes, () => resolve()));
  }
}

/** HTTP/2 connections to one server, all destroyed by `close()`. */
export class RawConnections {
  private readonly open: http2.ClientHttp2Session[] = [];

  constructor(private readonly address: string) {}

  connect(): http2.ClientHttp2Session {
    const c = http2.connect(`http://${this.address}`);
    c.on('error', () => undefined);
    this.open.push(c);
    return c;
  }

  close(): void {
    for (const c of this.open.splice(0)) c.destroy();
  }
}

export function call(connection: http2.ClientHttp2Session, path: string, read: boolean, metadata: Record<string, string> = {}): RawStream {
  return new RawStream(connection.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...metadata }), read);
}
