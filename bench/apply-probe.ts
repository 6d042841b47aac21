import { StateMachine } from '../src/global/state/state-machine.ts';
import { decodeCommand, encodeCommand } from '../src/global/codec.ts';
const sm = new StateMachine();
const v = new Uint8Array(256).fill(7);
const key = (i: number): string => `bench/${i.toString().padStart(6, '0')}`;
let inst = 0;
const mk = (k: string, i: number) => encodeCommand({ clientId: 'c1', requestId: i + 1, firstIncomplete: i }, { success: [{ put: { key: k, value: { inline: v } } }], compares: [], failure: [] });
let rid = 0;
for (let b = 0; b < 100_000; b += 1000) {
  const cmds = Array.from({ length: 1000 }, (_, j) => decodeCommand(mk(key(b + j), rid++)));
  sm.applyInstance(++inst, cmds);
}
for (let round = 0; round < 5; round++) {
  const raw = Array.from({ length: 256 * 20 }, () => mk(key(Math.floor(Math.random() * 100_000)), rid++));
  let t = performance.now();
  const decoded = raw.map(decodeCommand);
  const tDecode = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < 20; i++) sm.applyInstance(++inst, decoded.slice(i * 256, (i + 1) * 256));
  const tApply = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < 5120; i++) mk(key(i), rid++);
  const tEncode = performance.now() - t;
  console.log(`per command: decode ${(tDecode * 1000 / 5120).toFixed(1)} us, apply ${(tApply * 1000 / 5120).toFixed(1)} us, encode ${(tEncode * 1000 / 5120).toFixed(1)} us`);
}
