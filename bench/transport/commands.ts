// What the suite (bench/suites/transport.ts) asks the client process to measure, and what the
// client answers: one JSON object per line on the client's stdin and stdout.

export interface UnaryCommand {
  kind: 'unary';
  /** Calls kept outstanding at once, each carrying one operation. */
  callsInFlight: number;
  payloadBytes: number;
  runSeconds: number;
}

export interface StreamCommand {
  kind: 'stream';
  /** Frames sent but not yet echoed, at most; a new frame goes out as each echo arrives. */
  framesInFlightMax: number;
  opsPerFrame: number;
  payloadBytes: number;
  runSeconds: number;
}

export type Command = UnaryCommand | StreamCommand;

export interface RunResult {
  /** Operations echoed (and checked) per second of the run. */
  opsPerS: number;
  /** Unary: per call. Stream: per frame, from write to its echo arriving. */
  latencyP50Ms: number;
  latencyP99Ms: number;
}

/** Throws on anything that is not a well-formed command; the client exits on it. */
export function parseCommand(line: string): Command {
  const value: unknown = JSON.parse(line);
  if (typeof value !== 'object' || value === null || !('kind' in value)) throw new Error(`not a command: ${line}`);
  const fields = value as Record<string, unknown>;
  const positiveInt = (name: string): number => {
    const v = fields[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`command field ${name} must be a positive integer: ${line}`);
    return v;
  };
  const runSeconds = fields['runSeconds'];
  if (typeof runSeconds !== 'number' || !(runSeconds > 0)) throw new Error(`command field runSeconds must be > 0: ${line}`);
  if (fields['kind'] === 'unary') {
    return { kind: 'unary', callsInFlight: positiveInt('callsInFlight'), payloadBytes: positiveInt('payloadBytes'), runSeconds };
  }
  if (fields['kind'] === 'stream') {
    return {
      kind: 'stream',
      framesInFlightMax: positiveInt('framesInFlightMax'),
      opsPerFrame: positiveInt('opsPerFrame'),
      payloadBytes: positiveInt('payloadBytes'),
      runSeconds,
    };
  }
  throw new Error(`unknown command kind: ${line}`);
}
