// Building blocks for Prometheus metrics (prom-client) that keep hot paths cheap, and the
// HTTP endpoint that serves a registry (`--metrics host:port`, GET /metrics).
//
// The endpoint's stance: a process with TLS material serves metrics over HTTPS with mutual
// TLS against the same CA (a scraper needs a certificate from it: Prometheus's tls_config
// with ca_file, cert_file, key_file), so metrics are no more open than the gRPC port. Without
// TLS it is plain, unauthenticated HTTP, and binding it to anything but loopback logs a
// warning (metrics.plaintext): anyone who reaches it reads the figures (no keys or values,
// but key counts, sizes, rates and the cluster's shape).
//
// prom-client's own Histogram.observe allocates per call (a label object, a hash string). On
// per-request paths dstore uses `FixedHistogram` instead: its children are made once per
// label value, and `observe` only walks the bucket bounds and bumps numbers. The registry
// reads it at scrape time through prom-client's metric interface (`get()`), so the text it
// serves is prom-client's own formatting. Everything else that can be read when scraped
// (revisions, bytes, connection states) is a Gauge or Counter with a `collect` callback:
// nothing runs for it between scrapes.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP } from 'node:net';
import type { Metric, Registry } from 'prom-client';
import { InvalidArgumentError, UnavailableError } from './errors.ts';
import { createLogger, type Logger } from './log.ts';
import type { TlsMaterial } from './tls.ts';

/** Latency buckets in seconds: 100 us .. 10 s. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What prom-client's Registry reads from a metric's `get()` (its formatting does the rest). */
interface MetricSnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: { metricName: string; labels: Record<string, string | number>; value: number }[];
}

/** One labelled series of a FixedHistogram. `observe` allocates nothing. */
export class HistogramChild {
  // Invariant: counts[i] counts observations in (bounds[i-1], bounds[i]]; counts[bounds.length] those above the last bound.
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  /** Observes the seconds since `startMs` (a `performance.now()` reading). */
  observeSince(startMs: number): void {
    this.observe((performance.now() - startMs) / 1000);
  }
}

/**
 * A histogram with at most one label whose values are all known up front (e.g. the operation).
 * Register it with `registry.registerMetric(h.metric)`.
 */
export class FixedHistogram<V extends string> {
  private readonly children = new Map<V, HistogramChild>();
  readonly metric: Metric;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string | null,
    labelValues: readonly V[],
    private readonly bounds: readonly number[] = LATENCY_BUCKETS_SECONDS,
  ) {
    for (const v of labelValues) this.children.set(v, new HistogramChild(bounds));
    // prom-client's Registry needs only these members of a metric; its Metric type names its classes.
    const metric = {
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      get: (): Promise<MetricSnapshot> => Promise.resolve(this.snapshot()),
      reset: (): void => this.reset(),
    };
    this.metric = metric as unknown as Metric;
  }

  /** The series for `value` (made at construction: no allocation per observation). */
  child(value: V): HistogramChild {
    const c = this.children.get(value);
    if (c === undefined) throw new InvalidArgumentError(`${this.name}: no series ${JSON.stringify(value)}`);
    return c;
  }

  private reset(): void {
    for (const c of this.children.values()) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }

  private snapshot(): MetricSnapshot {
    const values: MetricSnapshot['values'] = [];
    for (const [labelValue, c] of this.children) {
      const labels: Record<string, string | number> = this.labelName === null ? {} : { [this.labelName]: labelValue };
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += c.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: bound }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: c.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: c.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: c.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}

/** A running `--metrics` endpoint. */
export interface MetricsEndpoint {
  /** "host:port" it listens on (the real port when asked for port 0). */
  readonly address: string;
  /** 'https' (mutual TLS) when served with TLS material, else 'http'. */
  readonly scheme: 'http' | 'https';
  /** The scrape URL, e.g. "https://10.0.0.1:9464/metrics". */
  readonly url: string;
  close(): Promise<void>;
}

export interface MetricsServeOptions {
  /** The process's TLS material: serve HTTPS, requiring a client certificate from its CA. */
  readonly tls?: TlsMaterial | null;
  /** Where the plaintext-on-a-network warning goes; default: stderr. */
  readonly logger?: Logger;
}

/** True for "localhost", 127.0.0.0/8 and ::1 (a bind reachable from this machine only). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * Serves `registry` at <listen>/metrics (text exposition format): over HTTPS with mutual TLS
 * when `options.tls` is given, else plain HTTP (with a warning unless bound to loopback).
 * Other paths get 404. Throws UnavailableError naming the address when it cannot bind.
 */
export async function serveMetrics(registry: Registry, listen: string, options: MetricsServeOptions = {}): Promise<MetricsEndpoint> {
  const colon = listen.lastIndexOf(':');
  const port = Number(listen.slice(colon + 1));
  if (colon <= 0 || !/^\d{1,5}$/.test(listen.slice(colon + 1)) || port > 65535) {
    throw new InvalidArgumentError(`--metrics ${JSON.stringify(listen)} is not host:port (for example 127.0.0.1:9464)`);
  }
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const tls = options.tls ?? null;
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('dstore serves metrics at /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  };
  const server: Server = tls === null
    ? createServer(handle)
    : createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new UnavailableError(`cannot serve metrics on ${listen}: ${err.message}`)));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
  const address = `${listen.slice(0, colon)}:${boundPort}`;
  const scheme = tls === null ? 'http' : 'https';
  if (tls === null && !isLoopbackHost(host)) {
    (options.logger ?? createLogger()).warn('metrics.plaintext', {
      address,
      message: 'metrics are served over plain, unauthenticated HTTP on a non-loopback address: anyone who reaches it can read them; bind --metrics to 127.0.0.1 or give the process TLS (--tls-cert, --tls-key, --tls-ca) to serve them over mutual TLS',
    });
  }
  return {
    address,
    scheme,
    url: `${scheme}://${address}/metrics`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
