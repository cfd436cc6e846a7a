import net from 'node:net';

interface Link {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** The client's bytes so far, as text, until the link is frozen (only to find a command in them). */
  sent: string;
  frozen: boolean;
}

/**
 * A TCP relay to a port on 127.0.0.1 (a Redis), for the one fault a restart of Redis does not give: a connection
 * left half-open on a master that is gone (a host that died, a failover behind a network partition). freeze()
 * turns chosen links into such sockets: the relay drops its side towards Redis and from then on swallows what the
 * client sends and never answers, not even its FIN, so the client's socket never closes. New connections are
 * relayed as before, as they would reach the new master.
 */
export class TcpRelay {
  private readonly links = new Set<Link>();
  private readonly server: net.Server;
  port = 0;

  private constructor(private readonly targetPort: number) {
    this.server = net.createServer({ allowHalfOpen: true }, (client) => this.relay(client));
  }

  static async start(targetPort: number): Promise<TcpRelay> {
    const relay = new TcpRelay(targetPort);
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
    const address = relay.server.address();
    relay.port = typeof address === 'object' && address !== null ? address.port : 0;
    return relay;
  }

  private relay(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    const link: Link = { client, upstream, sent: '', frozen: false };
    this.links.add(link);
    client.on('data', (chunk: Buffer) => {
      if (link.frozen) return;
      if (link.sent.length < 65_536) link.sent += chunk.toString('latin1');
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!link.frozen) client.write(chunk);
    });
    const drop = (): void => {
      if (link.frozen) return;
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('end', drop);
    client.on('error', drop);
    upstream.on('close', drop);
    upstream.on('error', drop);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Open links, not frozen, whose client has sent `command`. */
  count(command: string): number {
    const wanted = command.toUpperCase();
    return [...this.links].filter((l) => !l.frozen && l.sent.toUpperCase().includes(wanted)).length;
  }

  /** Freezes every open link whose client has sent `command` (e.g. BZPOPMIN); returns how many. */
  freeze(command: string): number {
    let frozen = 0;
    const wanted = command.toUpperCase();
    for (const link of this.links) {
      if (link.frozen || !link.sent.toUpperCase().includes(wanted)) continue;
      link.frozen = true;
      link.upstream.destroy();
      frozen++;
    }
    return frozen;
  }

  /** Closes every link (frozen ones too) and stops listening. */
  async close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    this.links.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
