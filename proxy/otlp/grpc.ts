import { randomUUID } from 'node:crypto';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import zlib from 'node:zlib';

import { SidecarError } from '../../core/errors';
import { agentResults } from '../../core/results';
import type { OtlpSignal } from '../../queue/otlp/model';
import { AgentAnswers } from '../answer';
import type { RequestAuthenticator } from '../auth/authenticate';
import { mappedIpv4, type NetworkAllowList } from '../auth/networks';
import { grpcCodeOf } from './grpc-status';
import { acceptOtlp, type OtlpDeps } from './handler';
import { renderOtlpSuccess } from './response';

/**
 * OTLP over gRPC on the intake port: TLS connections that negotiated h2 (ALPN) are handed here by server.ts; this
 * answers unary Export calls of the three collector services (gzip or identity messages) with the same
 * authentication (the `authorization` metadata entry), allow-list, size limit, backpressure and queueing as
 * OTLP/HTTP, and gRPC status codes (Unauthenticated, PermissionDenied, ResourceExhausted, Unavailable, ...).
 */

const services: Readonly<Record<string, OtlpSignal>> = {
  '/opentelemetry.proto.collector.trace.v1.TraceService/Export': 'traces',
  '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export': 'metrics',
  '/opentelemetry.proto.collector.logs.v1.LogsService/Export': 'logs',
};

export interface GrpcIntakeOptions {
  readonly deps: OtlpDeps;
  /** gRPC calls are not routed by the route table: the one call authenticates here, for event:write. */
  readonly authenticator: RequestAuthenticator;
  readonly networks: NetworkAllowList;
  readonly readTimeoutMs: number;
  readonly accepting: () => boolean;
}

function header(headers: http2.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The one request message of a unary call: 1 byte compressed flag, 4 bytes length, the message. */
async function readMessage(
  stream: http2.ServerHttp2Stream,
  encoding: string | undefined,
  maxBytes: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    total += buffer.length;
    if (total > maxBytes + 5) throw new SidecarError('SIDECAR_ERR_REQUEST_TOO_LARGE');
    chunks.push(buffer);
  }
  const frame = Buffer.concat(chunks);
  if (frame.length < 5) throw new SidecarError('SIDECAR_ERR_GRPC_PROTOCOL', 'request message missing');
  const compressed = frame[0] === 1;
  const length = frame.readUInt32BE(1);
  if (frame.length !== 5 + length)
    throw new SidecarError('SIDECAR_ERR_GRPC_PROTOCOL', 'unary call with more or less than one message');
  const message = frame.subarray(5);
  if (!compressed) return message;
  if (encoding !== 'gzip')
    throw new SidecarError(
      'SIDECAR_ERR_GRPC_ENCODING',
      `message compressed with unsupported encoding ${encoding ?? 'identity'}`,
    );
  try {
    return zlib.gunzipSync(message, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (err) {
    if (err instanceof RangeError) throw new SidecarError('SIDECAR_ERR_REQUEST_TOO_LARGE');
    throw new SidecarError('SIDECAR_ERR_INVALID_COMPRESSION', 'data decoding error: gzip: invalid message', {
      cause: err,
    });
  }
}

export class GrpcIntake {
  private readonly server: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly answers: AgentAnswers;

  constructor(private readonly options: GrpcIntakeOptions) {
    this.answers = new AgentAnswers(options.deps.metrics, options.deps.logger);
    this.server = http2.createServer();
    this.server.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
      session.on('error', (err: Error) => options.deps.logger.debug({ err: err.message }, 'gRPC session error'));
    });
    this.server.on('stream', (stream, headers) => {
      void this.serve(stream, headers).catch((err: unknown) => {
        options.deps.logger.error({ err }, 'could not answer a gRPC call');
        stream.destroy();
      });
    });
  }

  /** A TLS socket that negotiated h2. */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  private async serve(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
    const started = process.hrtime.bigint();
    const { deps } = this.options;
    const id = randomUUID();
    const receivedAt = Date.now();
    const remote = stream.session?.socket.remoteAddress;
    const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), this.options.readTimeoutMs);
    try {
      const signal = services[header(headers, ':path') ?? ''];
      if (signal === undefined)
        throw new SidecarError('SIDECAR_ERR_NOT_FOUND', `unknown method ${header(headers, ':path') ?? ''}`);
      if (!(header(headers, 'content-type') ?? '').startsWith('application/grpc'))
        throw new SidecarError('SIDECAR_ERR_INVALID_CONTENT_TYPE', 'content-type must be application/grpc');
      if (!this.options.networks.allows(remote)) throw new SidecarError('SIDECAR_ERR_NETWORK_NOT_ALLOWED');
      if (!this.options.accepting()) throw new SidecarError('SIDECAR_ERR_SHUTTING_DOWN');
      const identity = await this.options.authenticator.authenticate(header(headers, 'authorization'), 'event:write');
      await deps.backpressure.admit();
      const raw = await readMessage(stream, header(headers, 'grpc-encoding'), deps.limits.maxRequestSize);
      const sender = {
        id,
        receivedAt,
        clientIp: remote === undefined ? '' : (mappedIpv4(remote) ?? remote),
        userAgent: header(headers, 'user-agent') ?? null,
      };
      const counts = await acceptOtlp(
        deps,
        { signal, format: 'protobuf' },
        { raw, received: raw, encoding: 'plain' },
        sender,
        identity,
      );
      const response = renderOtlpSuccess(signal, 'protobuf', counts.rejected).body;
      const body = Buffer.isBuffer(response) ? response : Buffer.from(response);
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(body.length, 1);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(grpcCodeOf.exported) }));
      stream.end(Buffer.concat([prefix, body]));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      deps.metrics.countRequest(agentResults.exported.status, 'exported', seconds);
    } catch (err) {
      this.fail(stream, err, { requestId: id, client: remote }, started);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A trailers-only answer with the gRPC code of the result (or of a protocol error). */
  private fail(stream: http2.ServerHttp2Stream, err: unknown, line: Record<string, unknown>, started: bigint): void {
    const { status, message, result } = this.answers.log(err, line);
    this.options.deps.metrics.countRequest(status, result, Number(process.hrtime.bigint() - started) / 1e9);
    if (stream.destroyed || stream.headersSent) return;
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc+proto',
        'grpc-status': String(grpcCodeOf[result]),
        'grpc-message': encodeURIComponent(message),
      },
      { endStream: true },
    );
  }

  /** Graceful: GOAWAY to every session (in-flight calls finish), then gone after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    for (const session of this.sessions) session.close();
    const deadline = Date.now() + graceMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const session of this.sessions) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
