// Scenario transcripts: a text file of commands, each followed by `----` and the output it must
// produce, separated by blank lines; `#` lines are comments. `runTranscript` replays a file on a
// fresh Cluster and returns the file as it should read; the test compares the two, and with
// REWRITE_TRANSCRIPTS=1 writes it back instead (then read the diff before committing it).
//
// Commands:
//   cluster ids=1,2,3 [fresh] [lease=on|off] [window=N] [election=N] [heartbeat=N] [drift=N] [retry=N] [entries=N]
//     (members that bootstrapped before; `fresh`: on empty storage, so each recovers first)
//   tick all|1,2 [n=N]                 tick-until ID [with=2,3] [limit=N]
//   campaign ID                        propose ID CMD...            read ID REQUEST_ID
//   deliver [from=] [to=] [type=] [count=]     drop [from=] [to=] [type=] [count=]
//   stabilize     partition 1 | 2,3    heal     crash ID     restart ID     wipe ID
//   backup ID (copy what its storage holds durably)    restore ID (crash, restart on that copy)
//   compact ID    install-snapshot ID from=ID  status [IDS]  log [IDS]  queued
//   agree         (every instance applied on two replicas holds the same value on both)

import { Cluster, type Filter } from './harness.ts';
import type { ReplicaConfig } from '../../src/consensus/config.ts';

interface Block {
  readonly comments: readonly string[];
  readonly command: string;
  readonly expected: readonly string[];
}

export function parseTranscript(text: string): { blocks: Block[]; trailing: string[] } {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let comments: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.startsWith('#') || line.trim() === '') {
      comments.push(line);
      i++;
      continue;
    }
    if (lines[i + 1] !== '----') throw new Error(`line ${i + 2}: expected ---- after the command "${line}"`);
    const expected: string[] = [];
    i += 2;
    while (i < lines.length && lines[i] !== '') expected.push(lines[i++]!);
    i++; // the blank line that ends the block
    blocks.push({ comments, command: line, expected });
    comments = [];
  }
  return { blocks, trailing: comments };
}

function parseIds(text: string, cluster: Cluster | null): number[] {
  if (text === 'all') {
    if (cluster === null) throw new Error('no cluster yet');
    return cluster.ids;
  }
  return text.split(',').map((s) => {
    const id = Number(s);
    if (!Number.isSafeInteger(id)) throw new Error(`bad replica id "${s}"`);
    return id;
  });
}

function keyValues(words: readonly string[]): { positional: string[]; named: Map<string, string> } {
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq > 0) named.set(word.slice(0, eq), word.slice(eq + 1));
    else positional.push(word);
  }
  return { positional, named };
}

function num(named: Map<string, string>, key: string, fallback: number): number {
  const text = named.get(key);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${key}=${text} is not an integer`);
  return value;
}

function filterOf(named: Map<string, string>): Filter {
  const filter: Filter = {};
  if (named.has('from')) filter.from = num(named, 'from', 0);
  if (named.has('to')) filter.to = num(named, 'to', 0);
  const type = named.get('type');
  if (type !== undefined) filter.type = type;
  return filter;
}

function makeCluster(positional: readonly string[], named: Map<string, string>): Cluster {
  const ids = parseIds(named.get('ids') ?? '1,2,3', null);
  const overrides: { -readonly [K in keyof ReplicaConfig]?: ReplicaConfig[K] } = {};
  if (named.has('lease')) overrides.leaseReadsEnabled = named.get('lease') === 'on';
  if (named.has('window')) overrides.windowInstancesMax = num(named, 'window', 0);
  if (named.has('election')) overrides.electionTimeoutTicks = num(named, 'election', 0);
  if (named.has('heartbeat')) overrides.heartbeatIntervalTicks = num(named, 'heartbeat', 0);
  if (named.has('drift')) overrides.clockDriftBoundPercent = num(named, 'drift', 0);
  if (named.has('retry')) overrides.retryTicks = num(named, 'retry', 0);
  if (named.has('entries')) overrides.messageEntriesMax = num(named, 'entries', 0);
  const flags = positional.filter((w) => w !== 'fresh');
  if (flags.length > 0) throw new Error(`unknown cluster flag "${flags[0]}"`);
  return new Cluster(ids, overrides, positional.includes('fresh'));
}

function oneId(positional: readonly string[], cluster: Cluster): number {
  const [first] = parseIds(positional[0] ?? '', cluster);
  if (first === undefined) throw new Error('a replica id is needed');
  return first;
}

/** Runs one command and returns its output lines. */
function execute(command: string, state: { cluster: Cluster | null }): string[] {
  const [verb, ...rest] = command.trim().split(/\s+/);
  const { positional, named } = keyValues(rest);
  if (verb === 'cluster') {
    state.cluster = makeCluster(positional, named);
    return state.cluster.takeOutput();
  }
  const cluster = state.cluster;
  if (cluster === null) throw new Error(`"${command}" before "cluster"`);
  switch (verb) {
    case 'tick': cluster.tick(parseIds(positional[0] ?? 'all', cluster), num(named, 'n', 1)); break;
    case 'tick-until': cluster.tickUntilRoleChanges(oneId(positional, cluster), named.has('with') ? parseIds(named.get('with')!, cluster) : [], num(named, 'limit', 100)); break;
    case 'campaign': cluster.campaign(oneId(positional, cluster)); break;
    case 'propose': cluster.propose(oneId(positional, cluster), positional.slice(1)); break;
    case 'read': cluster.read(oneId(positional, cluster), Number(positional[1])); break;
    case 'deliver': cluster.deliver(filterOf(named), num(named, 'count', Number.MAX_SAFE_INTEGER), false); break;
    case 'drop': cluster.deliver(filterOf(named), num(named, 'count', Number.MAX_SAFE_INTEGER), true); break;
    case 'stabilize': cluster.stabilize(); break;
    case 'partition': cluster.partition(rest.join(' ').split('|').map((g) => parseIds(g.trim().replace(/\s+/g, ','), cluster))); break;
    case 'heal': cluster.heal(); break;
    case 'crash': cluster.crash(oneId(positional, cluster)); break;
    case 'restart': cluster.restart(oneId(positional, cluster)); break;
    case 'wipe': cluster.wipe(oneId(positional, cluster)); break;
    case 'backup': cluster.backup(oneId(positional, cluster)); break;
    case 'restore': cluster.restore(oneId(positional, cluster)); break;
    case 'compact': cluster.compact(oneId(positional, cluster)); break;
    case 'install-snapshot': cluster.installSnapshot(oneId(positional, cluster), num(named, 'from', 0)); break;
    case 'status': cluster.status(positional.length > 0 ? parseIds(positional[0]!, cluster) : cluster.ids); break;
    case 'log': cluster.logs(positional.length > 0 ? parseIds(positional[0]!, cluster) : cluster.ids); break;
    case 'queued': cluster.queued(); break;
    case 'agree': cluster.agree(); break;
    default: throw new Error(`unknown command "${verb}"`);
  }
  return cluster.takeOutput();
}

/** Replays `text` and returns it with every block's output replaced by the actual output. */
export function runTranscript(text: string): string {
  const { blocks, trailing } = parseTranscript(text);
  const state: { cluster: Cluster | null } = { cluster: null };
  const out: string[] = [];
  for (const block of blocks) {
    out.push(...block.comments, block.command, '----');
    const output = execute(block.command, state);
    out.push(...(output.length === 0 ? ['ok'] : output), '');
  }
  out.push(...trailing);
  return out.join('\n');
}
