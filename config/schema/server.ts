import type { Schema } from 'convict';

import { type ServerAuthConfig, serverAuthSchema } from './server-auth';
import { type ServerRumConfig, serverRumSchema } from './server-rum';
import { type ServerSslConfig, serverSslSchema } from './server-ssl';

/** server: the agents' listener, its limits and timeouts. */
export interface ServerConfig {
  host: string;
  workers: number;
  auth: ServerAuthConfig;
  otlp: { grpc: boolean };
  rum: ServerRumConfig;
  ssl: ServerSslConfig;
  allowed_networks: string[];
  trusted_proxies: string[];
  max_event_size: number;
  max_request_size: number;
  max_inflight_bytes: number;
  max_connections: number;
  max_header_size: number;
  read_timeout: string;
  idle_timeout: string;
  shutdown_timeout: string;
}

export const serverSchema: Schema<ServerConfig> = {
  host: {
    doc: 'Address the intake listens on, host:port. Agents send to https://<this>.',
    format: 'host-port',
    default: '127.0.0.1:8200',
    env: 'APM_SIDECAR_HOST',
  },
  workers: {
    doc: "Proxy processes sharing the agents' port (node:cluster, connections handed out round-robin), each with its own Redis connection, so one container can use several cores. 1 (the default) is a single process as before. Above 1 a primary process supervises them (a worker that dies is restarted and logged at error) and serves admin.host, whose /metrics sums every worker and whose /readyz is ready only when every worker is. max_connections and max_inflight_bytes apply to each worker. Worth it when the proxy is the bottleneck and the container has a core per worker to give; at most 64.",
    format: 'worker-count',
    default: 1,
  },
  auth: serverAuthSchema,
  otlp: {
    grpc: {
      doc: 'Also serve OTLP over gRPC (the three Export services, HTTP/2 negotiated by ALPN) on the TLS intake port; HTTP/1.1 keeps serving intake v2 and OTLP/HTTP. Needs TLS. Clients that offer h2 (curl) then talk HTTP/2 and get only gRPC: use --http1.1.',
      format: Boolean,
      default: false,
      env: 'APM_SIDECAR_OTLP_GRPC',
    },
  },
  rum: serverRumSchema,
  ssl: serverSslSchema,
  allowed_networks: {
    doc: 'CIDR blocks (IPv4 and IPv6) allowed to connect; others get 403 before their body is read. Empty: any.',
    format: 'cidr-list',
    default: [],
    env: 'APM_SIDECAR_ALLOWED_NETWORKS',
  },
  trusted_proxies: {
    doc: 'CIDR blocks (IPv4 and IPv6) of reverse proxies in front of apm-sidecar whose X-Forwarded-For / Forwarded headers are believed. From any other peer those headers are ignored and rebuilt from the real peer address. Empty (default): trust no one.',
    format: 'cidr-list',
    default: [],
    env: 'APM_SIDECAR_TRUSTED_PROXIES',
  },
  max_event_size: {
    doc: 'Largest accepted event (one ndjson line, decompressed), in bytes.',
    format: 'nat',
    default: 307200,
  },
  max_request_size: {
    doc: 'Largest accepted request body after decompression, in bytes; bounds a decompression bomb.',
    format: 'nat',
    default: 67108864,
  },
  max_inflight_bytes: {
    doc: 'Decompressed intake bytes held in memory at once across all requests (lines being judged, partial lines, decompressor output). A request that would go beyond it is answered 503 + Retry-After, so many concurrent large or compressed bodies cannot exhaust memory. A compressed body costs about 7.5 times its size while it is queued, so one larger than a 7.5th of this (3.2 MiB with the default) is refused as too large; agents send about 1 MB or less. Per proxy process: with server.workers N each worker has its own, N times this in all. 0: no global bound.',
    format: 'nat',
    default: 25165824,
  },
  max_connections: {
    doc: "Most connections open at once on the intake listener (as APM Server's max_connections); more are closed at once, before TLS. Per proxy process: with server.workers N each worker holds up to this many, N times this in all. 0: no limit.",
    format: 'nat',
    default: 1024,
  },
  max_header_size: {
    doc: 'Largest request head (request line and headers), in bytes; more is answered 431 and the connection closed.',
    format: 'nat',
    default: 16384,
  },
  read_timeout: {
    doc: 'Longest time to receive a whole request, headers included: a sender that trickles its headers (slowloris) is cut off at this time too.',
    format: 'duration',
    default: '30s',
  },
  idle_timeout: {
    doc: 'Longest silence on a connection, within or between requests.',
    format: 'duration',
    default: '45s',
  },
  shutdown_timeout: {
    doc: 'After SIGTERM, how long in-flight requests (proxy) or bulks (forwarder) may take to finish.',
    format: 'duration',
    default: '30s',
  },
};
