import http from 'node:http';
import type { Duplex } from 'node:stream';

/** Node's own answers to a request it could not parse (lib/_http_server.js), by the parser's error code. */
const statusOf: Readonly<Record<string, number>> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

const lingerMs = 1000;

/**
 * Answers what Node answers to a request it cannot parse (431 for a head beyond server.max_header_size, 408 for
 * headers slower than server.read_timeout, 400 otherwise), but closes the connection only once the answer is
 * written. Node writes and destroys at once, which over TLS loses the answer whenever an earlier write (the
 * session tickets sent after the handshake) is still in flight: then TLS holds the answer back and the close
 * drops it. A client that does not read is cut a second later.
 */
export function answerClientErrors(server: http.Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // As Node: no answer when one is already being sent on this connection (it would corrupt it).
    const inFlight: unknown = Reflect.get(socket, '_httpMessage');
    const answering = inFlight instanceof http.ServerResponse && inFlight.headersSent;
    if (!socket.writable || answering) {
      socket.destroy();
      return;
    }
    const status = statusOf[err.code ?? ''] ?? 400;
    const linger = setTimeout(() => socket.destroy(), lingerMs);
    linger.unref();
    socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\n\r\n`, () => {
      clearTimeout(linger);
      socket.destroy();
    });
  });
}
