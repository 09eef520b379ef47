import { createServer, type Socket } from 'node:net';
import type { ChannelOptions, Server, ServerCredentials } from '@grpc/grpc-js';
import type { ConnectionSettings } from '../config';

/**
 * After a connection reaches its maximum age and is told to go away, how long its calls get to
 * finish: longer than any deadline a caller of this service sensibly sets.
 */
const CONNECTION_AGE_GRACE_MS = 30_000;

/**
 * What grpc-js enforces per connection (issue 10): the streams a client may have open at once
 * (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); a connection with no call for the idle time is closed,
 * and every connection after its maximum age, so clients rebalance; a keepalive ping goes out after
 * the keepalive time without traffic and a peer that does not answer it in time is dropped.
 */
export function connectionOptions(settings: ConnectionSettings): ChannelOptions {
  return {
    'grpc.max_concurrent_streams': settings.maxConcurrentStreams,
    'grpc.max_connection_idle_ms': settings.idleTimeoutMs,
    'grpc.max_connection_age_ms': settings.maxAgeMs,
    'grpc.max_connection_age_grace_ms': CONNECTION_AGE_GRACE_MS,
    'grpc.keepalive_time_ms': settings.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': settings.keepaliveTimeoutMs,
  };
}

export interface Listener {
  readonly port: number;
  /** Stops accepting connections; those open are left to the gRPC server's drain. */
  close(): void;
}

/**
 * The listening socket, ours rather than grpc-js's, because grpc-js offers no cap on connections:
 * past `maxConnections` a new connection is closed at once, and one that has sent no byte within
 * the handshake timeout is closed too, so idle sockets cannot hold the cap. Accepted sockets are
 * handed to grpc-js, which runs HTTP/2 (and TLS, with such credentials) on them as on its own.
 */
export async function listen(
  server: Server,
  credentials: ServerCredentials,
  address: { readonly host: string; readonly port: number },
  settings: ConnectionSettings,
): Promise<Listener> {
  const injector = server.createConnectionInjector(credentials);
  const tcp = createServer((socket: Socket) => {
    const handshake = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, settings.handshakeTimeoutMs);
    handshake.unref();
    socket.once('close', () => {
      clearTimeout(handshake);
    });
    injector.injectConnection(socket);
  });
  tcp.maxConnections = settings.maxConnections;
  const port = await new Promise<number>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(address.port, address.host, () => {
      tcp.off('error', reject);
      const bound = tcp.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : address.port);
    });
  });
  return {
    port,
    close: () => {
      tcp.close();
    },
  };
}
