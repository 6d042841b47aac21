// Node/V8 flags for a replica process, passed by whatever spawns one (`examples/global.ts
// --cluster`, the benchmarks); a replica started by hand takes them from NODE_OPTIONS
// (docs/operations.md, "Tuning").
//
// A replica allocates many short-lived objects per request (decoded frames, commands, results).
// V8's default young generation (16 MiB semi-spaces) scavenges so often that survivors of a
// proposal batch in flight get promoted and collected again by the old-generation GC. 32 MiB
// measured +15-25% puts/s and +15% linearizable gets/s on the 3-replica bench (2 cores);
// 64 MiB was no better.
export const REPLICA_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
