// One network link of a fault run, as a loopback TCP proxy the suite controls: connections to
// its port are forwarded to `target`. `cut()` turns it into a black hole (bytes each way are
// read and dropped, new connections accepted and never answered: what a partition looks like
// to TCP, so the ends find out by their own timeouts and keepalives); `slow(ms)` delays every
// chunk by that much each way; `heal()` ends every connection that went through a cut (their
// byte streams have holes) and forwards again.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  readonly client: Socket;
  readonly server: Socket;
  /** Lost bytes while cut: must not carry on after a heal. */
  damaged: boolean;
}

export class LinkProxy {
  private readonly pairs = new Set<Pair>();
  private isCut = false;
  private delayMs = 0;
  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly target: { readonly host: string; readonly port: number },
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get cutNow(): boolean {
    return this.isCut;
  }

  /** Listens on 127.0.0.1:0 and forwards to `target`. */
  static async start(target: { readonly host: string; readonly port: number }): Promise<LinkProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('link proxy: no port');
    const proxy = new LinkProxy(server, address.port, target);
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  private accept(client: Socket): void {
    const server = createConnection({ host: this.target.host, port: this.target.port });
    const pair: Pair = { client, server, damaged: this.isCut };
    this.pairs.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      // Chunks held by a slow link, in order: a later chunk never overtakes one still held.
      const held: { readonly atMs: number; readonly chunk: Buffer }[] = [];
      let timer: NodeJS.Timeout | null = null;
      const drain = (): void => {
        timer = null;
        while (held.length > 0 && held[0]!.atMs <= performance.now()) {
          const { chunk } = held.shift()!;
          if (!to.destroyed) to.write(chunk);
        }
        if (held.length > 0) timer = setTimeout(drain, held[0]!.atMs - performance.now());
      };
      from.on('data', (chunk: Buffer) => {
        if (this.isCut) {
          pair.damaged = true;
          return;
        }
        if (pair.damaged) return;
        if (this.delayMs === 0 && held.length === 0) {
          to.write(chunk);
          return;
        }
        held.push({ atMs: performance.now() + this.delayMs, chunk });
        timer ??= setTimeout(drain, this.delayMs);
      });
      from.on('close', () => {
        if (timer !== null) clearTimeout(timer);
      });
    };
    forward(client, server);
    forward(server, client);
    const close = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('close', close);
    server.on('close', close);
    client.on('error', close);
    server.on('error', close);
  }

  /** Drops every byte each way from now on, until `heal`. */
  cut(): void {
    this.isCut = true;
  }

  /** Delays every chunk by `delayMs` each way, until `heal`. */
  slow(delayMs: number): void {
    this.delayMs = delayMs;
  }

  /** Forwards again at full speed; ends the connections that lost bytes while cut. */
  heal(): void {
    this.isCut = false;
    this.delayMs = 0;
    for (const pair of [...this.pairs]) {
      if (!pair.damaged) continue;
      this.pairs.delete(pair);
      pair.client.destroy();
      pair.server.destroy();
    }
  }

  async stop(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.server.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
