/**
 * Elasticsearch-shaped error bodies. The real node answers `{"error":{"root_cause":[...],"type","reason",...},
 * "status":N}`; clients (ours included) read `error.type` and `status`, so the stand-in reproduces that shape.
 */
export interface EsErrorCause {
  readonly type: string;
  readonly reason: string;
  readonly [extra: string]: unknown;
}

export interface EsErrorBody {
  readonly error: EsErrorCause & { readonly root_cause: EsErrorCause[] };
  readonly status: number;
}

/** Thrown by route handlers; the server turns it into the status and body Elasticsearch would send. */
export class EsHttpError extends Error {
  constructor(
    readonly status: number,
    readonly cause_: EsErrorCause,
    readonly headers: Readonly<Record<string, string | string[]>> = {},
  ) {
    super(cause_.reason);
  }

  body(): EsErrorBody {
    return { error: { root_cause: [this.cause_], ...this.cause_ }, status: this.status };
  }
}

const schemes = ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', 'ApiKey'];
const authenticateHeader = { 'WWW-Authenticate': schemes };

export function missingCredentials(path: string): EsHttpError {
  return new EsHttpError(
    401,
    {
      type: 'security_exception',
      reason: `missing authentication credentials for REST request [${path}]`,
      header: authenticateHeader,
    },
    { 'www-authenticate': schemes },
  );
}

export function badUserCredentials(username: string, path: string): EsHttpError {
  return new EsHttpError(
    401,
    {
      type: 'security_exception',
      reason: `unable to authenticate user [${username}] for REST request [${path}]`,
      header: authenticateHeader,
    },
    { 'www-authenticate': schemes },
  );
}

export function badApiKey(path: string): EsHttpError {
  return new EsHttpError(
    401,
    {
      type: 'security_exception',
      reason: `unable to authenticate with provided credentials and anonymous access is not allowed for this request`,
      additional_unsuccessful_credentials: `API key: invalid credentials for REST request [${path}]`,
      header: authenticateHeader,
    },
    { 'www-authenticate': schemes },
  );
}

/** The 403 text Elasticsearch writes when an action is denied. */
export function unauthorizedReason(
  action: string,
  who: string,
  roles: readonly string[],
  indices?: string,
  grantedBy?: string,
  grantedKind?: 'cluster' | 'index',
): string {
  const on = indices === undefined ? '' : ` on indices [${indices}]`;
  const kind = grantedKind ?? (indices === undefined ? 'cluster' : 'index');
  const granted = grantedBy === undefined ? '' : `, this action is granted by the ${kind} privileges [${grantedBy}]`;
  return `action [${action}] is unauthorized for ${who} with effective roles [${roles.join(',')}]${on}${granted}`;
}

export function forbidden(reason: string): EsHttpError {
  return new EsHttpError(403, { type: 'security_exception', reason });
}

export function notFound(type: string, reason: string, extra: Record<string, unknown> = {}): EsHttpError {
  return new EsHttpError(404, { type, reason, ...extra });
}

export function indexNotFound(index: string): EsHttpError {
  return notFound('index_not_found_exception', `no such index [${index}]`, {
    'resource.type': 'index_or_alias',
    'resource.id': index,
    index_uuid: '_na_',
    index,
  });
}

export function badRequest(type: string, reason: string): EsHttpError {
  return new EsHttpError(400, { type, reason });
}

export function parseError(reason: string): EsHttpError {
  return badRequest('x_content_parse_exception', reason);
}
