import type { Logger } from 'pino';

import { SidecarError } from '../../core/errors';
import type { Identity } from '../../queue/contract';
import type { ApiKeyPrivilege, ApiKeyVerifier } from './api-key-verifier';
import type { SecretTokenVerifier } from './secret-tokens';

/** APM Server's wording (internal/beater/auth/authenticator.go), which agents and their users recognise. */
const expectedHeaderFormat =
  "expected 'Authorization: Bearer secret_token' or 'Authorization: ApiKey base64(API key ID:API key)'";
export const missingHeaderMessage = `authentication failed: missing or improperly formatted Authorization header: ${expectedHeaderFormat}`;

export interface AuthorizationHeader {
  /** The scheme word, case-sensitive ("Bearer", "ApiKey"); empty when the header is absent or has no space. */
  readonly kind: string;
  readonly token: string;
}

/** Splits at the first space, exactly as APM Server does: "Bearer x y" has the token "x y". */
export function parseAuthorizationHeader(value: string | undefined): AuthorizationHeader {
  const space = value === undefined ? -1 : value.indexOf(' ');
  if (value === undefined || space <= 0) return { kind: '', token: '' };
  return { kind: value.slice(0, space), token: value.slice(space + 1) };
}

function unauthorized(message = 'authentication failed'): SidecarError {
  return new SidecarError('SIDECAR_ERR_UNAUTHORIZED', message);
}

/**
 * Who may send: secret tokens and/or API keys. With neither configured every caller is anonymous and allowed,
 * as APM Server does.
 */
export class RequestAuthenticator {
  constructor(
    private readonly tokens: SecretTokenVerifier,
    private readonly apiKeys: ApiKeyVerifier | undefined,
  ) {}

  get required(): boolean {
    return this.tokens.configured || this.apiKeys !== undefined;
  }

  /** The caller's identity, or a SidecarError: 401 (bad credential), 403 (key lacks the privilege), 503/429 (key backend). */
  async authenticate(header: string | undefined, privilege: ApiKeyPrivilege, client?: string): Promise<Identity> {
    if (!this.required) return { kind: 'anonymous' };
    const { kind, token } = parseAuthorizationHeader(header);
    switch (kind) {
      case '':
        throw unauthorized(missingHeaderMessage);
      case 'Bearer': {
        const identity = this.tokens.match(token);
        if (identity === undefined) throw unauthorized();
        return { kind: 'secret_token', id: identity };
      }
      case 'ApiKey':
        if (this.apiKeys === undefined) throw unauthorized();
        return this.verifyApiKey(this.apiKeys, token, privilege, client);
      default:
        throw unauthorized(`authentication failed: unknown Authentication header ${kind}: ${expectedHeaderFormat}`);
    }
  }

  /** For GET /: the identity when the credential is good, null when it is missing or wrong (never a 401). */
  async identifyOptionally(header: string | undefined): Promise<Identity | null> {
    try {
      return await this.authenticate(header, 'event:write');
    } catch (err) {
      if (
        err instanceof SidecarError &&
        (err.code === 'SIDECAR_ERR_UNAUTHORIZED' || err.code === 'SIDECAR_ERR_FORBIDDEN')
      )
        return null;
      throw err;
    }
  }

  private async verifyApiKey(
    verifier: ApiKeyVerifier,
    credentials: string,
    privilege: ApiKeyPrivilege,
    client: string | undefined,
  ): Promise<Identity> {
    const verdict = await verifier.verify(credentials, privilege, client);
    switch (verdict.kind) {
      case 'ok':
        return { kind: 'api_key', id: verdict.keyId };
      case 'unauthorized':
        throw unauthorized(verdict.reason === '' ? undefined : `authentication failed: ${verdict.reason}`);
      case 'forbidden':
        throw new SidecarError('SIDECAR_ERR_FORBIDDEN', `forbidden request: ${verdict.reason}`);
    }
  }
}

export interface CredentialSettings {
  readonly secretTokens: readonly unknown[];
  readonly apiKeyEnabled: boolean;
  readonly allowInsecure: boolean;
  readonly tlsEnabled: boolean;
}

/**
 * A secret token or API key sent in clear text protects nothing: refuse to start unless the operator opted in,
 * and then say so on every start.
 */
export function assertCredentialsProtected(settings: CredentialSettings, logger: Logger): void {
  const hasCredentials = settings.secretTokens.length > 0 || settings.apiKeyEnabled;
  if (!hasCredentials || settings.tlsEnabled) return;
  if (!settings.allowInsecure) {
    throw new SidecarError('SIDECAR_ERR_INSECURE_CREDENTIALS', undefined, {
      remediation:
        'configure server.ssl.certificate and server.ssl.key, or set server.auth.allow_insecure: true to accept clear-text credentials',
    });
  }
  logger.warn(
    'server.auth.allow_insecure is true: secret tokens and API keys travel in clear text over HTTP; configure server.ssl.* to protect them',
  );
}
