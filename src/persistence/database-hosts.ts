import { connect, type Socket } from 'node:net';

export interface DatabaseHost {
  readonly host: string;
  readonly port: number;
}

const DEFAULT_PORT = 3306;
/** scheme, user info (optional), the host list, then path and query. */
const URL_PARTS = /^(mysql:\/\/)([^@/?#]*@)?([^/?#]+)(.*)$/;

/** `h1:3411,h2:3412` as hosts; an IPv6 literal is written in brackets, as in a URL. */
function parseHostList(list: string): DatabaseHost[] {
  return list.split(',').map((item) => {
    const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(item.trim());
    if (match === null) throw new Error(`DATABASE_URL host "${item}" must be host or host:port`);
    const port = match[2] === undefined ? DEFAULT_PORT : Number(match[2]);
    if (port < 1 || port > 65_535) throw new Error(`DATABASE_URL host "${item}" has a port out of range`);
    return { host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port };
  });
}

function hostPort({ host, port }: DatabaseHost): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * DATABASE_URL names one server, or several nodes of one replicated cluster (Galera) as
 * `mysql://user:pass@node1:3306,node2:3306,node3:3306/giftcard`. Every pool the service opens and
 * its health probe take their hosts from here, so they fail over together.
 */
export class DatabaseEndpoints {
  private constructor(
    private readonly prefix: string,
    private readonly suffix: string,
    readonly hosts: readonly DatabaseHost[],
  ) {}

  static parse(url: string): DatabaseEndpoints {
    const match = URL_PARTS.exec(url);
    if (match === null) throw new Error('DATABASE_URL must be a mysql:// URL');
    const hosts = parseHostList(match[3] ?? '');
    const endpoints = new DatabaseEndpoints(`${match[1] ?? ''}${match[2] ?? ''}`, match[4] ?? '', hosts);
    // Each single-host form must be a URL mysql2 and TypeORM can read.
    for (const index of hosts.keys()) new URL(endpoints.urlOf(index));
    return endpoints;
  }

  /** The URL naming only the host at `index`: what a single-host client (mysql2, TypeORM) reads. */
  urlOf(index: number): string {
    const host = this.hosts[index];
    if (host === undefined) throw new Error(`no database host ${index}`);
    return `${this.prefix}${hostPort(host)}${this.suffix}`;
  }

  /** `host:port`, for logs: never the user or password. */
  nameOf(index: number): string {
    const host = this.hosts[index];
    return host === undefined ? `host ${index}` : hostPort(host);
  }
}

type Listener = (index: number) => void;

/**
 * Which of the configured hosts new database connections go to. Every pool connects through
 * `connect` (mysql2's `stream` option), so moving to another node moves all of them: the next
 * connection any pool opens goes to the node now in use. A connect that fails moves on at once to
 * the next host; the health monitor, which probes the others too, moves when the node stops
 * answering queries (a Galera node that left the primary component still accepts connections).
 * On a move, sockets still open to the other nodes are closed, so no pooled connection keeps
 * writing to a node the service left.
 */
export class DatabaseHostSelector {
  private current = 0;
  private readonly sockets = new Map<Socket, number>();
  private readonly listeners = new Set<Listener>();

  constructor(readonly endpoints: DatabaseEndpoints) {}

  get size(): number {
    return this.endpoints.hosts.length;
  }

  /** The index of the host new connections go to. */
  get inUse(): number {
    return this.current;
  }

  get inUseName(): string {
    return this.endpoints.nameOf(this.current);
  }

  onMove(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends new connections to the host at `index` and closes sockets to every other host. */
  moveTo(index: number): void {
    if (index === this.current || index < 0 || index >= this.size) return;
    this.current = index;
    for (const [socket, host] of this.sockets) if (host !== index) socket.destroy();
    for (const listener of this.listeners) listener(index);
  }

  /** The order to try hosts in when the one in use fails: the ones after it, wrapping round. */
  failoverOrder(): number[] {
    return Array.from({ length: this.size }, (_, i) => (this.current + i) % this.size);
  }

  /** mysql2's `stream` factory: a socket to the host in use, as mysql2 would open it itself. */
  readonly connect = (): Socket => {
    const index = this.current;
    const { host, port } = this.endpoints.hosts[index] ?? { host: '', port: 0 };
    const socket = connect(port, host);
    socket.setNoDelay(true);
    this.sockets.set(socket, index);
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      socket.setKeepAlive(true);
    });
    socket.once('close', () => {
      this.sockets.delete(socket);
      // Refused, unreachable or timed out (mysql2 destroys the socket): the next connection tries
      // the next host, without waiting for a probe.
      if (!connected && this.current === index) this.moveTo((index + 1) % this.size);
    });
    return socket;
  };
}
