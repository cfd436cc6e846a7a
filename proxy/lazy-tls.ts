import type { Socket } from 'node:net';
import type tls from 'node:tls';

import { SidecarError } from '../core/errors';

/**
 * A TLS server builds a connection's TLSSocket and OpenSSL state (about 16 KB a connection) the moment it is
 * accepted; here only once the client's first bytes arrive, so a connection that never starts TLS costs a plain
 * socket. Node's TLSSocket feeds it the bytes already read from the socket it wraps (initRead), so nothing of the
 * hello is lost. The server's other 'connection' listeners (the cap, the allow-list, the handshake timer) still
 * run at accept: they are untouched, only the TLS one waits.
 */
export function startTlsOnFirstBytes(server: tls.Server): void {
  const [startTls, ...others] = server.listeners('connection');
  if (startTls === undefined || others.length > 0)
    throw new SidecarError('SIDECAR_ERR_INTERNAL', 'expected exactly the TLS connection listener of tls.Server');
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    // Until TLS owns the socket nothing else listens for its errors, and a reset before the hello would throw.
    socket.on('error', ignoreBeforeTls);
    socket.once('readable', () => {
      socket.off('error', ignoreBeforeTls);
      // 'readable' with nothing to read is the end: the client closed without a byte.
      if (socket.destroyed || socket.readableLength === 0) socket.destroy();
      else Reflect.apply(startTls, server, [socket]);
    });
  });
}

function ignoreBeforeTls(): void {
  // The socket is destroyed by the error itself; the client never started TLS, so there is nothing to report.
}
