import { errors } from '@elastic/elasticsearch';

import { isSidecarError, SidecarError } from '../core/errors';
import { fromElasticsearch, outcomeOfStatus } from './outcome';

/** Which configured credential made the failed request; remediations name its config keys. */
export type CredentialSource = 'output.elasticsearch' | 'setup.elasticsearch' | 'agent api key';

export interface EsErrorContext {
  readonly credential: CredentialSource;
  /** What was being attempted, e.g. "checking privileges"; prefixes the message. */
  readonly action?: string;
}

interface TlsFailure {
  readonly pattern: RegExp;
  readonly what: string;
  readonly fix: string;
}

const caFix =
  "set output.elasticsearch.ssl.certificate_authorities to the CA file that signed the cluster's HTTP certificate " +
  '(config/certs/http_ca.crt on a default Elasticsearch 8 install) or ssl.ca_trusted_fingerprint to the fingerprint Elasticsearch printed at first start';

/** Node/OpenSSL wordings (they vary by version: "self signed" and "self-signed"). */
const tlsFailures: readonly TlsFailure[] = [
  {
    pattern: /fingerprint does not match/i,
    what: "the cluster's CA does not match output.elasticsearch.ssl.ca_trusted_fingerprint",
    fix: 'compare the fingerprint with `openssl x509 -fingerprint -sha256 -noout -in http_ca.crt` on the cluster and correct ssl.ca_trusted_fingerprint',
  },
  {
    pattern: /Invalid or malformed certificate/i,
    what: 'the cluster sent no CA certificate in its chain, so ca_trusted_fingerprint cannot be matched',
    fix: 'configure the cluster to send its full chain (Elasticsearch does by default), or use ssl.certificate_authorities instead of the fingerprint',
  },
  {
    pattern:
      /self[- ]signed|unable to (verify|get local issuer)|certificate chain|UNABLE_TO_VERIFY|issuer certificate/i,
    what: "the cluster's certificate is not signed by a trusted CA",
    fix: caFix,
  },
  {
    pattern: /altnames|Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME/i,
    what: "the cluster's certificate does not name the host in output.elasticsearch.hosts",
    fix: 'use a host name the certificate lists (see its subjectAltName), or set ssl.verification_mode: certificate to check the CA only',
  },
  {
    pattern: /certificate has expired|CERT_HAS_EXPIRED|not yet valid/i,
    what: "the cluster's certificate has expired or is not valid yet",
    fix: "renew the cluster's HTTP certificate (elasticsearch-certutil) or fix the clock on this machine",
  },
  {
    pattern: /wrong version number|packet length too long|EPROTO|ssl3_get_record|http request.*https/i,
    what: 'the host does not speak TLS (is it plain http, or not Elasticsearch?)',
    fix: 'check the scheme and port of output.elasticsearch.hosts: Elasticsearch with security on serves https on 9200',
  },
  {
    pattern: /alert (bad certificate|certificate required|unknown ca)|handshake failure/i,
    what: 'the cluster refused our TLS client certificate',
    fix: 'set output.elasticsearch.ssl.certificate/key to a client certificate the cluster trusts, or drop client authentication on its HTTP layer',
  },
];

const notElasticsearchFix =
  'check output.elasticsearch.hosts: it must point at an Elasticsearch node (https://host:9200), not a proxy or Kibana';

const unreachable =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNRESET|ETIMEDOUT|other side closed|socket hang up|closed|No Living connections/i;

function prefix(context: EsErrorContext, text: string): string {
  return context.action === undefined ? text : `${context.action}: ${text}`;
}

function credentialFix(context: EsErrorContext): string {
  switch (context.credential) {
    case 'setup.elasticsearch':
      return 'set setup.elasticsearch.username/password (APM_SIDECAR_SETUP_ES_USERNAME / _PASSWORD) or setup.elasticsearch.api_key to a valid admin credential, e.g. the elastic user';
    case 'agent api key':
      return "the agent's API key is unknown, expired or invalidated: create a new one with apm-sidecar setup --create-agent-api-key NAME";
    case 'output.elasticsearch':
      return 'set output.elasticsearch.username/password or api_key to a valid credential; apm-sidecar setup --create-writer-api-key prints one';
  }
}

/** Elasticsearch's own reason for a refusal, when the body carries one. */
function reasonOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const error: unknown = body.error;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && 'reason' in error && typeof error.reason === 'string')
    return error.reason;
  return undefined;
}

function classifyResponse(err: errors.ResponseError, context: EsErrorContext): SidecarError {
  const status = err.meta.statusCode ?? 0;
  const reason = reasonOf(err.meta.body) ?? err.message;
  switch (outcomeOfStatus(status, fromElasticsearch(err.meta.headers))) {
    case 'not_elasticsearch':
      return new SidecarError(
        'SIDECAR_ERR_ES_NOT_ELASTICSEARCH',
        prefix(context, `HTTP ${status} without x-elastic-product: Elasticsearch`),
        { cause: err, remediation: notElasticsearchFix },
      );
    case 'auth':
      return new SidecarError(
        'SIDECAR_ERR_ES_AUTH',
        prefix(context, `Elasticsearch rejected the ${context.credential} credential (401): ${reason}`),
        { cause: err, remediation: credentialFix(context) },
      );
    case 'forbidden':
      return new SidecarError('SIDECAR_ERR_ES_PRIVILEGES', prefix(context, `forbidden (403): ${reason}`), {
        cause: err,
        remediation:
          'grant the privilege named above to the credential (apm-sidecar setup creates roles that hold them); apm-sidecar check lists every missing one',
      });
    case 'overloaded':
    case 'retry':
      return new SidecarError(
        'SIDECAR_ERR_ES_UNAVAILABLE',
        prefix(context, `Elasticsearch answered ${status}: ${reason}`),
        {
          cause: err,
          remediation:
            'the cluster is overloaded or unhealthy: check GET _cluster/health and the Elasticsearch logs; retrying later may succeed',
        },
      );
    default:
      return new SidecarError(
        'SIDECAR_ERR_ES_REQUEST_REJECTED',
        prefix(context, `Elasticsearch answered ${status}: ${reason}`),
        {
          cause: err,
          remediation:
            'the reason above comes from Elasticsearch; check the cluster version (8.x is supported) and the request',
        },
      );
  }
}

function classifyConnection(message: string, err: unknown, context: EsErrorContext): SidecarError {
  const tls = tlsFailures.find((f) => f.pattern.test(message));
  if (tls !== undefined) {
    return new SidecarError('SIDECAR_ERR_ES_TLS', prefix(context, `${tls.what} (${message})`), {
      cause: err,
      remediation: tls.fix,
    });
  }
  const hint = unreachable.test(message)
    ? 'start the cluster or fix output.elasticsearch.hosts (scheme, host, port); check firewalls between here and the cluster'
    : 'check that output.elasticsearch.hosts is reachable from here';
  return new SidecarError('SIDECAR_ERR_ES_UNAVAILABLE', prefix(context, `cannot reach Elasticsearch: ${message}`), {
    cause: err,
    remediation: hint,
  });
}

/**
 * Turns anything the Elasticsearch client throws into a SidecarError that says what went wrong and how to fix
 * it: TLS (which check failed), not Elasticsearch, 401, 403, overloaded, unreachable, rejected request.
 */
export function classifyEsError(err: unknown, context: EsErrorContext): SidecarError {
  if (isSidecarError(err)) return err;
  if (err instanceof errors.ProductNotSupportedError) {
    return new SidecarError(
      'SIDECAR_ERR_ES_NOT_ELASTICSEARCH',
      prefix(context, 'the server answered without x-elastic-product: Elasticsearch'),
      {
        cause: err,
        remediation: notElasticsearchFix,
      },
    );
  }
  if (err instanceof errors.ResponseError) return classifyResponse(err, context);
  if (err instanceof errors.TimeoutError) {
    return new SidecarError(
      'SIDECAR_ERR_ES_UNAVAILABLE',
      prefix(context, 'Elasticsearch did not answer within output.elasticsearch.timeout'),
      {
        cause: err,
        remediation: "check the cluster's health and load, or raise output.elasticsearch.timeout",
      },
    );
  }
  if (err instanceof errors.ConnectionError || err instanceof errors.NoLivingConnectionsError) {
    return classifyConnection(err.message, err, context);
  }
  if (err instanceof errors.DeserializationError) {
    return new SidecarError(
      'SIDECAR_ERR_ES_NOT_ELASTICSEARCH',
      prefix(context, "the server's answer is not Elasticsearch JSON"),
      {
        cause: err,
        remediation: 'check output.elasticsearch.hosts: it must point at an Elasticsearch node',
      },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return classifyConnection(message, err, context);
}
