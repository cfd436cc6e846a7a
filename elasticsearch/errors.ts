import { errors } from '@elastic/elasticsearch';

import { type ErrorCode, SidecarError } from '../core/errors';
import { isRecord } from '../core/parse';
import { fromElasticsearch, outcomeOfStatus } from './outcome';

/** Which configured credential made the failed request; remediations name its config keys. */
export type CredentialSource = 'output.elasticsearch' | 'setup.elasticsearch' | 'agent api key';

export interface EsErrorContext {
  readonly credential: CredentialSource;
  /** What was being attempted, e.g. "checking privileges"; prefixes the message. */
  readonly action?: string;
}

/** Node/OpenSSL wordings (they vary by version: "self signed" and "self-signed"). */
const tlsFailures: ReadonlyArray<{ readonly pattern: RegExp; readonly what: string; readonly fix: string }> = [
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
    fix:
      "set output.elasticsearch.ssl.certificate_authorities to the CA file that signed the cluster's HTTP certificate " +
      '(config/certs/http_ca.crt on a default Elasticsearch 8 install) or ssl.ca_trusted_fingerprint to the fingerprint Elasticsearch printed at first start',
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

const unreachable =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNRESET|ETIMEDOUT|other side closed|socket hang up|closed|No Living connections/i;

const credentialFixes: Readonly<Record<CredentialSource, string>> = {
  'setup.elasticsearch':
    'set setup.elasticsearch.username/password (APM_SIDECAR_SETUP_ES_USERNAME / _PASSWORD) or setup.elasticsearch.api_key to a valid admin credential, e.g. the elastic user',
  'agent api key':
    "the agent's API key is unknown, expired or invalidated: create a new one with apm-sidecar setup --create-agent-api-key NAME",
  'output.elasticsearch':
    'set output.elasticsearch.username/password or api_key to a valid credential; apm-sidecar setup --create-writer-api-key prints one',
};

/** Elasticsearch's own reason for a refusal, when the body carries one. */
function reasonOf(body: unknown): string | undefined {
  const error = isRecord(body) ? body.error : undefined;
  if (typeof error === 'string') return error;
  return isRecord(error) && typeof error.reason === 'string' ? error.reason : undefined;
}

/** The code, the message and, where it is not the code's usual one, the fix. */
type Failure = readonly [code: ErrorCode, message: string, fix?: string];

function refusalOf(err: errors.ResponseError, context: EsErrorContext): Failure {
  const status = err.meta.statusCode ?? 0;
  const reason = reasonOf(err.meta.body) ?? err.message;
  const answered = `Elasticsearch answered ${status}: ${reason}`;
  switch (outcomeOfStatus(status, fromElasticsearch(err.meta.headers))) {
    case 'not_elasticsearch':
      return ['SIDECAR_ERR_ES_NOT_ELASTICSEARCH', `HTTP ${status} without x-elastic-product: Elasticsearch`];
    case 'auth':
      return [
        'SIDECAR_ERR_ES_AUTH',
        `Elasticsearch rejected the ${context.credential} credential (401): ${reason}`,
        credentialFixes[context.credential],
      ];
    case 'forbidden':
      return ['SIDECAR_ERR_ES_PRIVILEGES', `forbidden (403): ${reason}`];
    case 'overloaded':
    case 'retry':
      return ['SIDECAR_ERR_ES_UNAVAILABLE', answered];
    default:
      return ['SIDECAR_ERR_ES_REQUEST_REJECTED', answered];
  }
}

const usualFixes: Partial<Record<ErrorCode, string>> = {
  SIDECAR_ERR_ES_NOT_ELASTICSEARCH:
    'check output.elasticsearch.hosts: it must point at an Elasticsearch node (https://host:9200), not a proxy or Kibana',
  SIDECAR_ERR_ES_PRIVILEGES:
    'grant the privilege named above to the credential (apm-sidecar setup creates roles that hold them); apm-sidecar check lists every missing one',
  SIDECAR_ERR_ES_UNAVAILABLE:
    'the cluster is overloaded or unhealthy: check GET _cluster/health and the Elasticsearch logs; retrying later may succeed',
  SIDECAR_ERR_ES_REQUEST_REJECTED:
    'the reason above comes from Elasticsearch; check the cluster version (8.x is supported) and the request',
};

function failureOf(err: unknown, context: EsErrorContext): Failure {
  if (err instanceof errors.ProductNotSupportedError)
    return ['SIDECAR_ERR_ES_NOT_ELASTICSEARCH', 'the server answered without x-elastic-product: Elasticsearch'];
  if (err instanceof errors.ResponseError) return refusalOf(err, context);
  if (err instanceof errors.TimeoutError) {
    const fix = "check the cluster's health and load, or raise output.elasticsearch.timeout";
    return ['SIDECAR_ERR_ES_UNAVAILABLE', 'Elasticsearch did not answer within output.elasticsearch.timeout', fix];
  }
  if (err instanceof errors.DeserializationError) {
    const fix = 'check output.elasticsearch.hosts: it must point at an Elasticsearch node';
    return ['SIDECAR_ERR_ES_NOT_ELASTICSEARCH', "the server's answer is not Elasticsearch JSON", fix];
  }
  // Anything else failed on the way there: the message says whether TLS refused or the cluster could not be reached.
  const message = err instanceof Error ? err.message : String(err);
  const tls = tlsFailures.find((f) => f.pattern.test(message));
  if (tls !== undefined) return ['SIDECAR_ERR_ES_TLS', `${tls.what} (${message})`, tls.fix];
  const hint = unreachable.test(message)
    ? 'start the cluster or fix output.elasticsearch.hosts (scheme, host, port); check firewalls between here and the cluster'
    : 'check that output.elasticsearch.hosts is reachable from here';
  return ['SIDECAR_ERR_ES_UNAVAILABLE', `cannot reach Elasticsearch: ${message}`, hint];
}

/**
 * Turns anything the Elasticsearch client throws into a SidecarError that says what went wrong and how to fix
 * it: TLS (which check failed), not Elasticsearch, 401, 403, overloaded, unreachable, rejected request.
 */
export function classifyEsError(err: unknown, context: EsErrorContext): SidecarError {
  if (err instanceof SidecarError) return err;
  const [code, text, fix] = failureOf(err, context);
  const message = context.action === undefined ? text : `${context.action}: ${text}`;
  return new SidecarError(code, message, { cause: err, remediation: fix ?? usualFixes[code] });
}
