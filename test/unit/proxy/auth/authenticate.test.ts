import { SidecarError } from '../../../../core/errors';
import type { ApiKeyVerifier } from '../../../../proxy/auth/api-key-verifier';
import {
  assertCredentialsProtected,
  missingHeaderMessage,
  parseAuthorizationHeader,
  RequestAuthenticator,
} from '../../../../proxy/auth/authenticate';
import { tokenIdentity } from '../../../../proxy/auth/secret-tokens';
import { SecretTokenVerifier } from '../../../../proxy/auth/secret-tokens';
import { LogSink } from '../../../support/log-sink';

async function failure(promise: Promise<unknown>): Promise<SidecarError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SidecarError) return err;
    throw err;
  }
  throw new Error('expected a SidecarError');
}

const keys: ApiKeyVerifier = {
  verify: (credentials) =>
    Promise.resolve(
      credentials === 'good'
        ? { kind: 'ok', keyId: 'key-1' }
        : credentials === 'reader'
          ? { kind: 'forbidden', reason: 'API Key not permitted action "event:write"' }
          : { kind: 'unauthorized', reason: '' },
    ),
  close: () => Promise.resolve(),
};

describe('parseAuthorizationHeader (as APM Server)', () => {
  it('splits at the first space and keeps the rest as the token', () => {
    expect(parseAuthorizationHeader('Bearer abc')).toEqual({ kind: 'Bearer', token: 'abc' });
    expect(parseAuthorizationHeader('Bearer a b')).toEqual({ kind: 'Bearer', token: 'a b' });
    expect(parseAuthorizationHeader('ApiKey aWQ6a2V5')).toEqual({ kind: 'ApiKey', token: 'aWQ6a2V5' });
    expect(parseAuthorizationHeader('Bearer ')).toEqual({ kind: 'Bearer', token: '' });
  });

  it('treats an absent header, no space or a leading space as no credential at all', () => {
    expect(parseAuthorizationHeader(undefined)).toEqual({ kind: '', token: '' });
    expect(parseAuthorizationHeader('Bearer')).toEqual({ kind: '', token: '' });
    expect(parseAuthorizationHeader(' Bearer abc')).toEqual({ kind: '', token: '' });
  });
});

describe('RequestAuthenticator', () => {
  const tokens = new SecretTokenVerifier(['t0', 't1']);

  it('lets everyone in as anonymous when no credential is configured', async () => {
    const auth = new RequestAuthenticator(new SecretTokenVerifier([]), undefined);
    expect(auth.required).toBe(false);
    await expect(auth.authenticate(undefined, 'event:write')).resolves.toEqual({ kind: 'anonymous' });
    await expect(auth.authenticate('Bearer whatever', 'event:write')).resolves.toEqual({ kind: 'anonymous' });
  });

  it('identifies a secret token by a short hash of it, never its value or its position', async () => {
    const auth = new RequestAuthenticator(tokens, undefined);
    await expect(auth.authenticate('Bearer t1', 'event:write')).resolves.toEqual({
      kind: 'secret_token',
      id: tokenIdentity('t1'),
    });
  });

  it("answers APM Server's 401 messages", async () => {
    const auth = new RequestAuthenticator(tokens, undefined);
    const missing = await failure(auth.authenticate(undefined, 'event:write'));
    expect(missing.code).toBe('SIDECAR_ERR_UNAUTHORIZED');
    expect(missing.message).toBe(missingHeaderMessage);
    expect(missingHeaderMessage).toBe(
      "authentication failed: missing or improperly formatted Authorization header: expected 'Authorization: Bearer secret_token' or 'Authorization: ApiKey base64(API key ID:API key)'",
    );
    expect((await failure(auth.authenticate('Bearer wrong', 'event:write'))).message).toBe('authentication failed');
    // The scheme word is case-sensitive, as in APM Server.
    expect((await failure(auth.authenticate('bearer t0', 'event:write'))).message).toBe(
      "authentication failed: unknown Authentication header bearer: expected 'Authorization: Bearer secret_token' or 'Authorization: ApiKey base64(API key ID:API key)'",
    );
    expect((await failure(auth.authenticate('ApiKey good', 'event:write'))).message).toBe('authentication failed');
  });

  it('verifies API keys when enabled: ok, 401, 403 without the privilege', async () => {
    const auth = new RequestAuthenticator(new SecretTokenVerifier([]), keys);
    await expect(auth.authenticate('ApiKey good', 'event:write')).resolves.toEqual({ kind: 'api_key', id: 'key-1' });
    expect((await failure(auth.authenticate('ApiKey bad', 'event:write'))).code).toBe('SIDECAR_ERR_UNAUTHORIZED');
    const forbidden = await failure(auth.authenticate('ApiKey reader', 'event:write'));
    expect(forbidden.code).toBe('SIDECAR_ERR_FORBIDDEN');
    expect(forbidden.message).toBe('forbidden request: API Key not permitted action "event:write"');
  });

  it('for GET / returns null instead of a 401', async () => {
    const auth = new RequestAuthenticator(tokens, undefined);
    await expect(auth.identifyOptionally('Bearer nope')).resolves.toBeNull();
    await expect(auth.identifyOptionally('Bearer t0')).resolves.toEqual({
      kind: 'secret_token',
      id: tokenIdentity('t0'),
    });
  });
});

describe('assertCredentialsProtected', () => {
  const base = { secretTokens: ['t'], apiKeyEnabled: false, allowInsecure: false, tlsEnabled: false };

  it('refuses credentials without TLS', () => {
    const sink = new LogSink();
    let refused: unknown;
    try {
      assertCredentialsProtected(base, sink.logger());
    } catch (err) {
      refused = err;
    }
    expect(refused).toMatchObject({ code: 'SIDECAR_ERR_INSECURE_CREDENTIALS' });
    expect(() => assertCredentialsProtected({ ...base, secretTokens: [], apiKeyEnabled: true }, sink.logger())).toThrow(
      SidecarError,
    );
  });

  it('allows them with allow_insecure, warning every time', () => {
    const sink = new LogSink();
    assertCredentialsProtected({ ...base, allowInsecure: true }, sink.logger());
    expect(sink.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('is silent with TLS on or with no credentials', () => {
    const sink = new LogSink();
    assertCredentialsProtected({ ...base, tlsEnabled: true }, sink.logger());
    assertCredentialsProtected({ ...base, secretTokens: [] }, sink.logger());
    expect(sink.lines).toHaveLength(0);
  });
});
