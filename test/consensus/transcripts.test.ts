// Proves the scenarios in test/consensus/testdata/*.txt still produce exactly the transcript
// written there: every message sent, role change, decision and read, in order. Each file is a
// story (first election, takeover with holes, duelling proposers, partition and heal, catch-up,
// lease expiry, a rejoining replica that does not disrupt the leader, the bootstrap of a new
// cluster, a wiped replica that recovers before it votes, one whose in-flight vote is counted
// after the wipe, and a stale leader that learns of higher-ballot decisions by a snapshot or by
// catch-up and steps down); a change in behaviour shows up as a diff. REWRITE_TRANSCRIPTS=1 regenerates.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runTranscript } from './transcript.ts';

const dir = new URL('./testdata/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
const rewrite = process.env['REWRITE_TRANSCRIPTS'] === '1';

describe('consensus transcripts', () => {
  it('has the scenarios the issue asks for', () => {
    for (const name of ['first_election', 'takeover_holes', 'dueling_proposers', 'partition_heal', 'lagging_catchup', 'lease_expiry', 'rejoin_no_disruption', 'bootstrap', 'wipe_recovery', 'wipe_ghost_vote', 'stale_leader_snapshot', 'stale_leader_catch_up']) {
      assert.ok(files.includes(`${name}.txt`), `testdata/${name}.txt`);
    }
  });

  for (const file of files) {
    it(file, () => {
      const url = new URL(file, dir);
      const expected = readFileSync(url, 'utf8');
      const actual = runTranscript(expected);
      if (rewrite) writeFileSync(url, actual);
      else assert.equal(actual, expected);
    });
  }
});
