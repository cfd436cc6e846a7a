import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

import { asError, SidecarError, SystemError } from '../core/errors';

/**
 * `ssl.ca_trusted_fingerprint` as Elasticsearch's own clients read it: "trust the CA with this SHA-256
 * fingerprint". The transport's `caFingerprint` only compares the top of the chain the server *sends* and
 * turns chain verification off, so a forged leaf sent along with the (public) real CA certificate passes.
 *
 * Here the pin only says which certificate to trust; OpenSSL does the verification. The first connection
 * is a probe that takes the certificate with the pinned fingerprint out of the presented chain (its bytes
 * are checked by hash, so the server cannot substitute anything); every real connection then runs with that
 * certificate as `ca` and `rejectUnauthorized: true`: signatures, validity dates, CA constraints and, under
 * verification_mode full, the host name.
 */

/** What undici hands a `connect` function (a subset: the rest is for proxies and sockets we do not use). */
interface ConnectParams {
  readonly hostname: string;
  readonly protocol: string;
  readonly port: string;
  readonly servername?: string | null;
}

type ConnectCallback = (err: Error | null, socket: net.Socket | null) => void;

/** An undici `connect` function. */
export type Connector = (params: ConnectParams, callback: ConnectCallback) => void;

export interface PinnedCaOptions {
  /** Normalised: 64 lower-case hex digits. */
  readonly fingerprint: string;
  /** PEMs of ssl.certificate_authorities: trusted as well as the pinned CA (as Beats do). */
  readonly certificateAuthorities: readonly string[];
  readonly clientCertificate?: string;
  readonly clientKey?: string;
  /** verification_mode full: true; certificate: false. */
  readonly checkHostName: boolean;
  readonly connectTimeoutMs: number;
}

/** SHA-256 of the DER, lower-case hex without colons. */
function fingerprintOf(cert: crypto.X509Certificate): string {
  return cert.fingerprint256.replace(/:/g, '').toLowerCase();
}

/** The certificates the server presented, leaf first, as Node links them (by issuer name, not by signature). */
function presentedChain(socket: tls.TLSSocket): crypto.X509Certificate[] {
  const chain: crypto.X509Certificate[] = [];
  const seen = new Set<string>();
  let current: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (current !== undefined && current.raw !== undefined && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(new crypto.X509Certificate(current.raw));
    // A self-signed root is its own issuer (Node makes it a circular reference); a leaf sent alone has none.
    current = current.issuerCertificate;
  }
  return chain;
}

/** The pinned certificate out of a PEM list, if it is there. */
export function findPinned(pems: readonly string[], fingerprint: string): string | undefined {
  return pems.find((pem) => fingerprintOf(new crypto.X509Certificate(pem)) === fingerprint);
}

function serverNameFor(params: ConnectParams): string | undefined {
  if (params.servername !== undefined && params.servername !== null && params.servername !== '')
    return params.servername;
  // SNI carries DNS names only (RFC 6066); for an IP, Node's checkServerIdentity falls back to `host`.
  return net.isIP(params.hostname) === 0 ? params.hostname : undefined;
}

/** Worded for the classifier in errors.ts: a leaf alone and a wrong pin have different remedies. */
function mismatch(hostname: string, fingerprint: string, presented: readonly crypto.X509Certificate[]): SidecarError {
  const sent = presented.map((cert) => `${cert.subject.replace(/\n/g, ', ')} (${fingerprintOf(cert)})`).join('; ');
  if (presented.length <= 1) {
    return new SidecarError(
      'SIDECAR_ERR_ES_TLS',
      `Invalid or malformed certificate chain: ${hostname} presented ${sent || 'no certificate'} and no CA certificate linked to it, so ssl.ca_trusted_fingerprint ${fingerprint} cannot be matched: the server must send its chain including the CA, as Elasticsearch does`,
    );
  }
  return new SidecarError(
    'SIDECAR_ERR_ES_TLS',
    `Server certificate CA fingerprint does not match ssl.ca_trusted_fingerprint ${fingerprint}: the chain ${hostname} presented holds ${presented.length} certificates: ${sent}`,
  );
}

/**
 * OpenSSL's verification codes as Node gives them (CERT_SIGNATURE_FAILURE, INVALID_CA, KEYUSAGE_NO_CERTSIGN,
 * UNABLE_TO_GET_ISSUER_CERT, ...): upper-case, and unlike errno and Node's own codes (ECONNRESET,
 * ERR_TLS_CERT_ALTNAME_INVALID, ERR_SSL_*) not starting with E. Dates keep their own wording.
 */
export function isChainFailure(code: string): boolean {
  return /^[A-DF-Z][A-Z_]*$/.test(code) && code !== 'CERT_HAS_EXPIRED' && code !== 'CERT_NOT_YET_VALID';
}

/** Says which check failed in words the error classifier (elasticsearch/errors.ts) recognises. */
function explain(err: Error, hostname: string, withCaFiles: boolean): Error {
  const code = 'code' in err ? err.code : undefined;
  if (typeof code !== 'string' || !isChainFailure(code)) return err;
  const trusted = withCaFiles
    ? 'the CA pinned by ssl.ca_trusted_fingerprint or those of ssl.certificate_authorities'
    : 'the CA pinned by ssl.ca_trusted_fingerprint';
  return new SystemError(
    code,
    `${err.message}: the certificate chain ${hostname} presented does not verify against ${trusted}`,
    { cause: err },
  );
}

/** verification_mode certificate: the chain is verified, the host name is not. */
export function skipHostNameCheck(): Error | undefined {
  return undefined;
}

/**
 * Opens a socket and calls back once when it is ready or failed, with a connect timeout (undici's own
 * connector has one; ours replaces it).
 */
function open(
  socket: net.Socket,
  readyEvent: 'connect' | 'secureConnect',
  timeoutMs: number,
  callback: ConnectCallback,
): void {
  let done = false;
  const finish = (err: Error | null): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (err !== null) {
      socket.destroy();
      callback(err, null);
    } else {
      callback(null, socket);
    }
  };
  const timer = setTimeout(
    () => finish(new SystemError('ETIMEDOUT', `connect ETIMEDOUT after ${timeoutMs} ms`)),
    timeoutMs,
  );
  socket.setNoDelay(true).setKeepAlive(true, 60_000);
  socket.once(readyEvent, () => finish(null));
  // After the callback the socket belongs to undici, which adds its own error listener.
  socket.once('error', (err) => finish(err));
}

/**
 * The undici `connect` function that enforces the pin. The pinned CA found by the first probe is kept for
 * the life of the client (its bytes cannot change: they hash to the pin); a failed probe is retried at the
 * next connection, since the cluster may be fixed meanwhile.
 */
export function createPinnedCaConnector(options: PinnedCaOptions): Connector {
  /** Where both connections go (the probe's and the verified one), with the client certificate when one is set. */
  const target = (params: ConnectParams): tls.ConnectionOptions => {
    const servername = serverNameFor(params);
    return {
      ...(options.clientCertificate !== undefined ? { cert: options.clientCertificate } : {}),
      ...(options.clientKey !== undefined ? { key: options.clientKey } : {}),
      host: params.hostname,
      port: params.port === '' ? 443 : Number(params.port),
      ...(servername !== undefined ? { servername } : {}),
    };
  };
  const alreadyTrusted = findPinned(options.certificateAuthorities, options.fingerprint);
  let trusted: Promise<string[]> | undefined =
    alreadyTrusted === undefined ? undefined : Promise.resolve([...options.certificateAuthorities]);

  const probe = (params: ConnectParams): Promise<string[]> =>
    new Promise((resolve, reject) => {
      // Verification is off for the probe only: it learns the pinned certificate's bytes and sends nothing.
      const socket = tls.connect({ ...target(params), rejectUnauthorized: false });
      open(socket, 'secureConnect', options.connectTimeoutMs, (err) => {
        if (err !== null) return reject(err);
        const presented = presentedChain(socket);
        socket.destroy();
        const pinned = presented.find((cert) => fingerprintOf(cert) === options.fingerprint);
        if (pinned === undefined) return reject(mismatch(params.hostname, options.fingerprint, presented));
        resolve([...options.certificateAuthorities, pinned.toString()]);
      });
    });

  const trustedCas = (params: ConnectParams): Promise<string[]> => {
    if (trusted === undefined) {
      const discovery = probe(params);
      trusted = discovery;
      discovery.catch(() => {
        if (trusted === discovery) trusted = undefined;
      });
    }
    return trusted;
  };

  const connectTls = (params: ConnectParams, ca: string[], callback: ConnectCallback): void => {
    // No session is offered: a resumed session skips Node's host name check, and undici's connector caches
    // sessions even from connections that then fail verification.
    const socket = tls.connect({
      ...target(params),
      ca,
      rejectUnauthorized: true,
      checkServerIdentity: options.checkHostName ? tls.checkServerIdentity : skipHostNameCheck,
      ALPNProtocols: ['http/1.1'],
    });
    open(socket, 'secureConnect', options.connectTimeoutMs, (err, ready) =>
      callback(err === null ? null : explain(err, params.hostname, options.certificateAuthorities.length > 0), ready),
    );
  };

  return (params, callback) => {
    if (params.protocol !== 'https:') {
      // Plain http has nothing to pin; warnAboutInsecureTransport says so at start.
      const socket = net.connect({ host: params.hostname, port: params.port === '' ? 80 : Number(params.port) });
      open(socket, 'connect', options.connectTimeoutMs, callback);
      return;
    }
    trustedCas(params).then(
      (ca) => connectTls(params, ca, callback),
      (err: unknown) => callback(asError(err), null),
    );
  };
}
