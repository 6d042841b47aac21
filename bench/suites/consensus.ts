// Suite `consensus`: decisions per second of the Multi-Paxos core alone. Three replicas in one
// process over a zero-delay in-memory network, no disk: each replica's driver keeps the Ready
// order (persist is a no-op, then send, apply, advance), so the figure is the cost of the core's
// own work per decision (phase 2 with a window of 16, ranged Accepts, piggybacked decisions).
//   decided_instances_per_s_unbatched: one 256-byte command per instance.
//   decided_commands_per_s_batched:    256-byte commands, COMMANDS_PER_INSTANCE per instance.
// Logs are compacted as the state machine would snapshot, so memory stays flat.
import { defaultConfig } from '../../src/consensus/config.ts';
import type { Message } from '../../src/consensus/messages.ts';
import { SplitMix32 } from '../../src/consensus/random.ts';
import { Replica } from '../../src/consensus/replica.ts';
import { RUNS_MIN, nowNs, repeat, report, secondsSince } from '../harness.ts';

const IDS = [1, 2, 3];
const COMMAND_BYTES = 256;
const WINDOW_INSTANCES = 16;
const COMMANDS_PER_INSTANCE = 64;
const RUN_SECONDS = 2;
const COMPACT_EVERY_INSTANCES = 4096;

interface Cluster {
  readonly replicas: Map<number, Replica>;
  readonly leader: Replica;
}

/** Drains one replica's Readies: messages into `outbox`; returns decided instances and commands. */
function drain(replica: Replica, outbox: Message[]): { instances: number; commands: number } {
  let instances = 0;
  let commands = 0;
  for (let ready = replica.ready(); ready !== null; ready = replica.ready()) {
    // persist: nothing (no disk in this bench); send:
    for (const m of ready.messages) outbox.push(m);
    // apply:
    for (const entry of ready.decided) {
      instances++;
      if (entry.value.kind === 'commands') commands += entry.value.commands.length;
    }
    replica.advance();
  }
  return { instances, commands };
}

function deliver(cluster: Cluster, messages: Message[]): void {
  for (const m of messages) cluster.replicas.get(m.to)!.step(m);
}

function electedCluster(): Cluster {
  const replicas = new Map(IDS.map((id) => [id, new Replica({ ...defaultConfig(id, IDS), windowInstancesMax: WINDOW_INSTANCES }, new SplitMix32(id))]));
  const leader = replicas.get(1)!;
  for (let tick = 0; tick < 100 && leader.status().role !== 'leader'; tick++) {
    for (const r of replicas.values()) r.tick();
    if (tick === 10) leader.campaign();
    for (let round = 0; round < 10; round++) {
      const outbox: Message[] = [];
      for (const r of replicas.values()) drain(r, outbox);
      if (outbox.length === 0) break;
      deliver({ replicas, leader }, outbox);
    }
  }
  if (leader.status().role !== 'leader') throw new Error('bench: no leader elected');
  return { replicas, leader };
}

/**
 * Keeps the window full for RUN_SECONDS and returns [decided instances/s, decided commands/s]
 * as seen by the leader's state machine.
 */
function run(commandsPerInstance: number): [number, number] {
  const cluster = electedCluster();
  const payload = new Uint8Array(COMMAND_BYTES).fill(7);
  const batch = Array.from({ length: commandsPerInstance }, () => payload);
  let instances = 0;
  let commands = 0;
  let compactedAt = 0;
  const outbox: Message[] = [];
  const start = nowNs();
  let elapsed = 0;
  for (let loop = 0; ; loop++) {
    while (cluster.leader.propose(batch).outcome === 'proposed') { /* fill the window */ }
    const decided = drain(cluster.leader, outbox);
    instances += decided.instances;
    commands += decided.commands;
    deliver(cluster, outbox.splice(0));
    for (const [id, r] of cluster.replicas) if (id !== 1) drain(r, outbox);
    deliver(cluster, outbox.splice(0));
    if (instances - compactedAt >= COMPACT_EVERY_INSTANCES) {
      for (const r of cluster.replicas.values()) r.compact(r.status().appliedThrough);
      compactedAt = instances;
    }
    if ((loop & 63) === 0 && (elapsed = secondsSince(start)) >= RUN_SECONDS) break;
  }
  return [instances / elapsed, commands / elapsed];
}

const unbatched = await repeat(RUNS_MIN, () => run(1)[0]);
const batched = await repeat(RUNS_MIN, () => run(COMMANDS_PER_INSTANCE)[1]);

report(
  'consensus',
  {
    decided_instances_per_s_unbatched: { runs: unbatched, unit: 'instances/s', target: { atLeast: 20_000 } },
    decided_commands_per_s_batched: { runs: batched, unit: 'commands/s', target: { atLeast: 300_000 } },
  },
  { replicas: IDS.length, commandBytes: COMMAND_BYTES, windowInstances: WINDOW_INSTANCES, commandsPerInstanceBatched: COMMANDS_PER_INSTANCE, runSeconds: RUN_SECONDS, network: 'in-memory, zero delay', disk: 'none' },
);
