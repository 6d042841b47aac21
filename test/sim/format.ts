// One-line renderings of messages, values and Ready batches for traces and transcripts.

import { formatBallot } from '../../src/consensus/ballot.ts';
import type { Message } from '../../src/consensus/messages.ts';
import type { LogEntry, Value, VoteStamp } from '../../src/consensus/types.ts';

const decoder = new TextDecoder();

export function formatValue(v: Value): string {
  if (v.kind === 'noop') return 'noop';
  return v.commands.map((c) => decoder.decode(c)).join('+');
}

export function formatEntry(e: LogEntry): string {
  return `${e.instance}:${formatValue(e.value)}@${formatBallot(e.ballot)}${e.decided ? '!' : ''}`;
}

function formatEntries(entries: readonly LogEntry[]): string {
  return `[${entries.map(formatEntry).join(' ')}]`;
}

export function formatStamp(s: VoteStamp): string {
  return `${s.incarnation}:${s.voteSeq}`;
}

export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type}`;
  switch (m.type) {
    case 'preVote': return `${head} b=${formatBallot(m.ballot)}`;
    case 'preVoteReply': return `${head} b=${formatBallot(m.ballot)} ${m.granted ? 'granted' : 'refused'} promised=${formatBallot(m.promised)}`;
    case 'prepare': return `${head} b=${formatBallot(m.ballot)} from=${m.fromInstance}`;
    case 'promise': return `${head} b=${formatBallot(m.ballot)} decided<=${m.decidedThrough} ${formatEntries(m.entries)}`;
    case 'accept': {
      const values = m.values.map((v, k) => `${m.firstInstance + k}:${formatValue(v)}`).join(' ');
      return `${head} b=${formatBallot(m.ballot)} [${values}] decided<=${m.decidedThrough}`;
    }
    case 'accepted': {
      const range = m.count === 0 ? 'none' : `${m.firstInstance}..${m.firstInstance + m.count - 1}`;
      return `${head} b=${formatBallot(m.ballot)} ${range} decided<=${m.decidedThrough}`;
    }
    case 'nack': return `${head} b=${formatBallot(m.ballot)} promised=${formatBallot(m.promised)} ${m.reason}`;
    case 'heartbeat': return `${head} b=${formatBallot(m.ballot)} decided<=${m.decidedThrough} seq=${m.seq}`;
    case 'heartbeatReply': return `${head} b=${formatBallot(m.ballot)} seq=${m.seq} decided<=${m.decidedThrough}`;
    case 'decided': return `${head} b=${formatBallot(m.ballot)} decided<=${m.decidedThrough}`;
    case 'catchUpRequest': return `${head} from=${m.fromInstance}`;
    case 'catchUp': return `${head} ${formatEntries(m.entries)} decided<=${m.decidedThrough}`;
    case 'snapshotNeeded': return `${head} snapshot<=${m.snapshotThrough}`;
    case 'recoveryQuery': return head;
    case 'recoveryReply': return `${head} promised=${formatBallot(m.promised)} decided<=${m.decidedThrough} ${formatEntries(m.entries)}${m.recovering ? ' recovering' : ''}`;
    case 'stampCheck': return `${head} stamp=${formatStamp(m.stamp)}`;
    case 'stampCheckReply': return `${head} ${m.rolledBack ? 'rolled-back' : 'current'} seen=${formatStamp(m.seen)}`;
  }
}
