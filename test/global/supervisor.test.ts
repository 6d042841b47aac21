// The --cluster parent's supervision (src/global/cluster/supervisor.ts), with fake processes and a
// fake clock: a replica that exits is started again after a doubling backoff, with its
// restart count; the console line carries its command line; the backoff starts over after a
// long run; `stop` ends every replica (SIGKILL after the grace) and cancels pending restarts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RESTART_DELAY_INITIAL_MS, RESTART_DELAY_MAX_MS, RESTART_RESET_AFTER_MS, Supervisor, type SupervisedProcess } from '../../src/global/cluster/supervisor.ts';
import { FakeClock, SeededRandom } from '../local/fake-clock.ts';

class FakeProcess implements SupervisedProcess {
  readonly signals: NodeJS.Signals[] = [];
  private onExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | null = null;
  exited = false;
  constructor(readonly id: number, readonly restarts: number, private readonly exitsOn: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGKILL']) {}
  kill(signal: NodeJS.Signals): boolean {
    this.signals.push(signal);
    if (this.exitsOn.includes(signal)) this.exit(null, signal);
    return true;
  }
  on(_event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this {
    this.onExit = listener;
    return this;
  }
  exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    this.onExit?.(code, signal);
  }
}

function setup(exitsOn?: readonly NodeJS.Signals[]): { supervisor: Supervisor; clock: FakeClock; spawned: FakeProcess[]; errors: string[] } {
  const clock = new FakeClock();
  const spawned: FakeProcess[] = [];
  const errors: string[] = [];
  const supervisor = new Supervisor({
    ids: [1, 2, 3],
    command: (id) => ['node', 'global.ts', '--id', String(id)],
    spawn: (id, restarts) => {
      const p = new FakeProcess(id, restarts, exitsOn);
      spawned.push(p);
      return p;
    },
    error: (line) => errors.push(line),
    stopGraceMs: 5000,
    clock,
    random: new SeededRandom(1),
  });
  supervisor.start();
  return { supervisor, clock, spawned, errors };
}

const latest = (spawned: FakeProcess[], id: number): FakeProcess => spawned.filter((p) => p.id === id).at(-1)!;

describe('Supervisor', () => {
  it('restarts a replica that exits, after a backoff, saying so with its command line', () => {
    const { supervisor, clock, spawned, errors } = setup();
    assert.equal(spawned.length, 3);
    latest(spawned, 2).exit(null, 'SIGKILL');
    assert.equal(supervisor.running, 2);
    assert.match(errors[0]!, /^\[2\] exited \(SIGKILL\) after 0 ms; restart 1 in \d+ ms: node global\.ts --id 2$/);
    clock.advance(RESTART_DELAY_INITIAL_MS);
    assert.equal(spawned.length, 4, 'started again within the initial delay');
    assert.equal(latest(spawned, 2).restarts, 1);
    assert.equal(supervisor.restartsOf(2), 1);
    assert.equal(supervisor.restartsOf(1), 0);
  });

  it('doubles the delay while a replica keeps exiting, up to the cap, and starts over after a long run', () => {
    const { clock, spawned, errors } = setup();
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      latest(spawned, 1).exit(1, null);
      const m = /restart \d+ in (\d+) ms/.exec(errors.at(-1)!);
      delays.push(Number(m![1]));
      clock.advance(delays.at(-1)!);
    }
    assert.ok(delays[3]! > delays[0]!, `delays grow: ${delays.join(', ')}`);
    assert.ok(delays.every((d) => d <= RESTART_DELAY_MAX_MS), `capped: ${delays.join(', ')}`);
    assert.ok(delays.at(-1)! >= RESTART_DELAY_MAX_MS / 2, `reaches the cap: ${delays.join(', ')}`);
    clock.advance(RESTART_RESET_AFTER_MS);
    latest(spawned, 1).exit(1, null);
    const m = /restart \d+ in (\d+) ms/.exec(errors.at(-1)!);
    assert.ok(Number(m![1]) <= RESTART_DELAY_INITIAL_MS, `after a long run the initial delay again: ${errors.at(-1)}`);
  });

  it('stop ends every replica, cancels a pending restart, and kills one that ignores SIGTERM', async () => {
    const { supervisor, clock, spawned, errors } = setup(['SIGKILL']);
    latest(spawned, 3).exit(null, 'SIGKILL'); // a restart is now pending
    const stopped = supervisor.stop();
    assert.deepEqual(spawned.filter((p) => !p.exited).map((p) => p.signals), [['SIGTERM'], ['SIGTERM']]);
    clock.advance(RESTART_DELAY_MAX_MS);
    assert.equal(spawned.length, 3, 'no restart after stop');
    clock.advance(5000);
    await stopped;
    assert.equal(supervisor.running, 0);
    assert.equal(errors.filter((l) => /did not stop within 5000 ms: killing it/.test(l)).length, 2);
  });
});
