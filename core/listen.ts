import { once } from 'node:events';
import type { Server } from 'node:net';

import { SidecarError } from './errors';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** "host:port", "[v6]:port" or ":port" (all interfaces) as config keys server.host and admin.host write them. */
export function parseHostPort(value: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  if (m === null || Number(m[3]) > 65535) {
    throw new SidecarError(
      'SIDECAR_ERR_CONFIG_INVALID',
      `"${value}" is not "host:port", e.g. "127.0.0.1:8200" or "[::1]:8200"`,
    );
  }
  return { host: m[1] ?? (m[2] === '' || m[2] === undefined ? '0.0.0.0' : m[2]), port: Number(m[3]) };
}

/**
 * The accept queue's length asked of listen(2); the kernel caps it at net.core.somaxconn, which is what Go's
 * listeners (APM Server's) ask for. Node's default, 511, overflowed in a burst of connections: the kernel then
 * drops the client's handshake ACK, the client believes it is connected, the server never hears of it, and no
 * timeout (server.ssl.handshake_timeout) or cap (server.max_connections) ever applies to it.
 */
const acceptBacklog = 65535;

/** Listens (port 0: any free port) and resolves with the bound address; a bind failure (EADDRINUSE) rejects. */
export async function listen(server: Server, at: ListenAddress): Promise<ListenAddress> {
  server.listen({ port: at.port, host: at.host, backlog: acceptBacklog });
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new SidecarError('SIDECAR_ERR_INTERNAL', `not listening on ${at.host}:${at.port}`);
  return { host: address.address, port: address.port };
}

const listenRemedies: Readonly<Record<string, string>> = {
  EADDRINUSE: 'another process listens there: stop it, or choose another port',
  EACCES: 'ports below 1024 need privileges: choose a port of 1024 or more',
  EADDRNOTAVAIL: 'no interface of this machine has that address: use one it has, 0.0.0.0 or 127.0.0.1',
};

/**
 * Turns a bind failure into an operator error naming the setting to change (`listen EADDRINUSE` alone names
 * neither). `setting` is the key and its variable, e.g. "server.host (APM_SIDECAR_HOST)".
 */
export function explainListenFailure(setting: string, value: string): (err: unknown) => never {
  return (err: unknown) => {
    const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
    if (code === undefined) throw err;
    throw new SidecarError('SIDECAR_ERR_LISTEN_FAILED', `cannot listen on ${value} (${code}), set by ${setting}`, {
      cause: err,
      remediation: `${listenRemedies[code] ?? 'choose another address'}; change ${setting}`,
    });
  };
}
