// Prometheus metrics of a Local (issue 7; docs/operations.md lists each one).
//
// Everything is read from `Local.stats()` when scraped, so the hit path (`getCached`, one table
// lookup and a counter) pays nothing for metrics. Counters are the Local's own running totals,
// exposed as Prometheus counters (collect: reset, then add the current total).

import { Counter, Gauge, type Registry } from 'prom-client';
import type { StreamState } from './cache/invalidation-state.ts';
import type { LocalStats } from './local.ts';

const STREAM_STATES: readonly StreamState[] = ['idle', 'syncing', 'connecting', 'streaming', 'backoff', 'closed'];

/** What the collectors read; a Local qualifies (`Local.stats()`). */
export interface LocalStatsSource {
  stats(): LocalStats;
}

/**
 * Registers the Local metrics on `registry`, read from `source` at each scrape. Returns a
 * function that detaches them (they then read as zero) for when the Local closes.
 */
export function registerLocalMetrics(registry: Registry, source: LocalStatsSource): () => void {
  let attached: LocalStatsSource | null = source;
  // One stats() per scrape, however many metrics read it: a scrape runs every collect in one
  // synchronous pass, and the copy is dropped at the next microtask.
  let cached: LocalStats | null = null;
  const read = (): LocalStats | null => {
    if (attached === null) return null;
    if (cached === null) {
      cached = attached.stats();
      queueMicrotask(() => {
        cached = null;
      });
    }
    return cached;
  };
  const counter = (name: string, help: string, value: (s: LocalStats) => number): void => {
    registry.registerMetric(new Counter({
      name,
      help,
      registers: [],
      collect() {
        const s = read();
        this.reset();
        if (s !== null) this.inc(value(s));
      },
    }));
  };
  const gauge = (name: string, help: string, value: (s: LocalStats) => number): void => {
    registry.registerMetric(new Gauge({
      name,
      help,
      registers: [],
      collect() {
        const s = read();
        this.set(s === null ? 0 : value(s));
      },
    }));
  };
  counter('dstore_local_hits_total', 'Reads served from this Local\'s cache.', (s) => s.hits);
  counter('dstore_local_misses_total', 'Reads that went to Global (not cached, or no lease).', (s) => s.misses);
  counter('dstore_local_evictions_total', 'Cache entries evicted to stay within the byte budget.', (s) => s.evictions);
  counter('dstore_local_invalidations_total', 'Cached bindings dropped or replaced by a change from the invalidation stream.', (s) => s.invalidations);
  counter('dstore_local_stream_reconnects_total', 'Times the invalidation stream was opened again after a break.', (s) => s.resubscribes);
  counter('dstore_local_lagging_stream_drops_total', 'Streams left because their replica stayed behind what Global had committed for longer than leaseMs.', (s) => s.lagDrops);
  counter('dstore_local_compactions_total', 'Times the stream fell behind Global\'s history and every binding was dropped.', (s) => s.compactions);
  gauge('dstore_local_cached_bytes', 'Bytes charged to the cache (values, bindings and bookkeeping).', (s) => s.bytes);
  gauge('dstore_local_cache_max_bytes', 'The cache\'s byte budget.', (s) => s.cacheBytesMax);
  gauge('dstore_local_cached_entries', 'Entries in the cache.', (s) => s.entries);
  gauge('dstore_local_cached_bindings', 'Key bindings in the cache.', (s) => s.bindings);
  gauge('dstore_local_cached_blobs', 'Distinct values in the cache.', (s) => s.blobs);
  gauge('dstore_local_applied_revision', 'Last revision applied from the invalidation stream.', (s) => s.revision);
  gauge('dstore_local_invalidation_lag_revisions', 'Highest revision seen in any answer from Global minus the applied revision: how far invalidations trail.', (s) => s.lagRevisions);
  gauge('dstore_local_lease_valid', '1 while the lease holds (bindings served from cache), 0 while reads go to Global.', (s) => (s.leaseValid ? 1 : 0));
  registry.registerMetric(new Gauge({
    name: 'dstore_local_stream_state',
    help: 'State of the invalidation stream: 1 for the current state, 0 for the others.',
    labelNames: ['state'],
    registers: [],
    collect() {
      const s = read();
      for (const state of STREAM_STATES) this.set({ state }, s !== null && s.stream.state === state ? 1 : 0);
    },
  }));
  return () => {
    attached = null;
    cached = null;
  };
}
