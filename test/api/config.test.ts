import { ApiError, isLoopback, resolveApiConfig } from '../../src/api';

const base = { THALASSA_ORGANISATION: 'org-1', THALASSA_API_TOKEN: 'pat-secret-123' };

function configError(env: NodeJS.ProcessEnv): ApiError {
  try {
    resolveApiConfig({ env });
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected resolveApiConfig to throw');
}

describe('API configuration from the environment', () => {
  it('THALASSA_API_MAX_ATTEMPTS sets the attempts of a retried call (1 to 20, default 5); anything else is refused without echoing it', () => {
    expect(resolveApiConfig({ env: base }).maxAttempts).toBe(5);
    expect(resolveApiConfig({ env: { ...base, THALASSA_API_MAX_ATTEMPTS: ' 12 ' } }).maxAttempts).toBe(12);
    expect(resolveApiConfig({ env: { ...base, THALASSA_API_MAX_ATTEMPTS: '12' }, maxAttempts: 2 }).maxAttempts).toBe(2);
    for (const bad of ['0', '21', '3.5', 'many', '-1']) {
      expect(configError({ ...base, THALASSA_API_MAX_ATTEMPTS: bad }).message).toMatch(/^THALASSA_API_MAX_ATTEMPTS must be a whole number from 1 to 20/);
    }
    const secretLooking = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
    expect(configError({ ...base, THALASSA_API_MAX_ATTEMPTS: secretLooking }).message).not.toContain(secretLooking);
  });

  it('reads the Terraform provider\'s variable names, defaulting the endpoint', () => {
    const config = resolveApiConfig({ env: { ...base, THALASSA_PROJECT_ID: 'prj-9' } });
    expect(config.endpoint.href).toBe('https://api.thalassa.cloud/');
    expect(config.organisation).toBe('org-1');
    expect(config.projectId).toBe('prj-9');
    expect(config.credentials).toEqual({ kind: 'token', token: 'pat-secret-123', source: 'THALASSA_API_TOKEN' });
  });

  it('client credentials win over an access token, which wins over a PAT (the provider\'s order); options beat the environment', () => {
    const all = { THALASSA_ORGANISATION: 'o', THALASSA_API_TOKEN: 'pat', THALASSA_ACCESS_TOKEN: 'at', THALASSA_CLIENT_ID: 'id', THALASSA_CLIENT_SECRET: 's' };
    expect(resolveApiConfig({ env: all }).credentials).toEqual({
      kind: 'client-credentials', clientId: 'id', clientSecret: 's', source: 'THALASSA_CLIENT_ID/THALASSA_CLIENT_SECRET', ignored: ['THALASSA_ACCESS_TOKEN', 'THALASSA_API_TOKEN'],
    });
    expect(resolveApiConfig({ env: { ...all, THALASSA_CLIENT_ID: '', THALASSA_CLIENT_SECRET: '' } }).credentials).toMatchObject({ kind: 'access-token', token: 'at', ignored: ['THALASSA_API_TOKEN'] });
    expect(resolveApiConfig({ env: { THALASSA_ORGANISATION: 'o', THALASSA_API_TOKEN: 'pat' } }).credentials).not.toHaveProperty('ignored');
    expect(resolveApiConfig({ env: { THALASSA_ORGANISATION: 'o', THALASSA_ACCESS_TOKEN: 'at' } }).credentials.kind).toBe('access-token');
    expect(resolveApiConfig({ env: base, accessToken: 'x', organisation: 'other' })).toMatchObject({ organisation: 'other', credentials: { kind: 'access-token', ignored: ['THALASSA_API_TOKEN'] } });
    expect(resolveApiConfig({ env: all, token: 'opt-pat' }).credentials).toMatchObject({ kind: 'token', source: 'the token option' });
    expect(resolveApiConfig({ env: base, token: 'p', clientId: 'i', clientSecret: 's' }).credentials).toMatchObject({ kind: 'client-credentials', ignored: ['the token option', 'THALASSA_API_TOKEN'] });
    // Half a pair beside a token: client credentials would win, so the caller meant them.
    expect(configError({ ...base, THALASSA_CLIENT_SECRET: 's' }).message).toMatch(/THALASSA_CLIENT_SECRET is set but THALASSA_CLIENT_ID is not/);
  });

  it('THALASSA_ALLOW_INSECURE_OIDC: an http:// token endpoint off loopback only with it', () => {
    const cc = { THALASSA_ORGANISATION: 'o', THALASSA_CLIENT_ID: 'id', THALASSA_CLIENT_SECRET: 'client-secret-42' };
    expect(resolveApiConfig({ env: cc }).oidcTokenUrl.href).toBe('https://api.thalassa.cloud/oidc/token');
    expect(resolveApiConfig({ env: { ...cc, THALASSA_API_ENDPOINT: 'http://127.0.0.1:9/base' } }).oidcTokenUrl.href).toBe('http://127.0.0.1:9/base/oidc/token');
    const insecure = { ...cc, THALASSA_OIDC_TOKEN_URL: 'http://sso.example.com/oidc/token' };
    const error = configError(insecure);
    expect(error.message).toMatch(/THALASSA_OIDC_TOKEN_URL http:\/\/sso\.example\.com uses plain http:\/\/.*THALASSA_ALLOW_INSECURE_OIDC/);
    expect(error.message).not.toContain('client-secret-42');
    for (const off of ['', '0', 'false', 'no']) expect(configError({ ...insecure, THALASSA_ALLOW_INSECURE_OIDC: off }).code).toBe('API_CONFIG');
    for (const on of ['1', 'true', 'TRUE', 'yes', 'on']) {
      expect(resolveApiConfig({ env: { ...insecure, THALASSA_ALLOW_INSECURE_OIDC: on } }).oidcTokenUrl.href).toBe('http://sso.example.com/oidc/token');
    }
    expect(resolveApiConfig({ env: insecure, allowInsecureOidc: true }).oidcTokenUrl.protocol).toBe('http:');
    expect(resolveApiConfig({ env: { ...cc, THALASSA_OIDC_TOKEN_URL: 'http://127.0.0.1:8080/t' } }).oidcTokenUrl.href).toBe('http://127.0.0.1:8080/t');
    expect(resolveApiConfig({ env: { ...cc, THALASSA_OIDC_TOKEN_URL: 'https://sso.example.com/t' } }).oidcTokenUrl.href).toBe('https://sso.example.com/t');
    // The switch never relaxes the API endpoint's rule: that channel carries wrapped key material.
    expect(configError({ ...insecure, THALASSA_ALLOW_INSECURE_OIDC: 'true', THALASSA_API_ENDPOINT: 'http://api.example.com' }).message).toMatch(/THALASSA_API_ENDPOINT/);
    expect(configError({ ...cc, THALASSA_OIDC_TOKEN_URL: 'https://u:p@sso.example.com/t' }).message).toMatch(/must not contain credentials/);
    expect(configError({ ...cc, THALASSA_OIDC_TOKEN_URL: 'ftp://sso.example.com/t' }).message).toMatch(/https:\/\//);
  });

  it.each([
    [{ THALASSA_API_TOKEN: 't' }, /THALASSA_ORGANISATION/],
    [{ THALASSA_ORGANISATION: 'o' }, /THALASSA_API_TOKEN.*THALASSA_ACCESS_TOKEN.*THALASSA_CLIENT_ID and THALASSA_CLIENT_SECRET/],
    [{ THALASSA_ORGANISATION: 'o', THALASSA_CLIENT_ID: 'id' }, /THALASSA_CLIENT_ID is set but THALASSA_CLIENT_SECRET is not/],
    [{ ...base, THALASSA_API_ENDPOINT: 'not a url' }, /THALASSA_API_ENDPOINT "not a url" is not a URL/],
    [{ ...base, THALASSA_API_ENDPOINT: 'ftp://x' }, /https:\/\//],
    [{ ...base, THALASSA_API_ENDPOINT: 'https://u:p@api.example' }, /must not contain credentials/],
    [{ ...base, THALASSA_API_ENDPOINT: 'http://api.thalassa.cloud' }, /plain http:\/\/ to a host that is not loopback/],
    [{ ...base, THALASSA_API_ENDPOINT: 'http://10.0.0.8:8080' }, /not loopback/],
  ])('names the variable to fix: %j', (env, message) => {
    const error = configError(env);
    expect(error.code).toBe('API_CONFIG');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('pat-secret-123');
  });

  it('allows plain http only to loopback', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '[::1]']) {
      expect(resolveApiConfig({ env: { ...base, THALASSA_API_ENDPOINT: `http://${host}:8080` } }).endpoint.protocol).toBe('http:');
    }
    expect(isLoopback('128.0.0.1')).toBe(false);
    expect(isLoopback('localhost.evil.com')).toBe(false);
    expect(isLoopback('::2')).toBe(false);
  });

  // A name under .localhost is resolved through DNS like any other name; nothing makes the answer loopback.
  it.each(['http://foo.localhost', 'http://api.kms.localhost:8080', 'http://FOO.LOCALHOST', 'http://foo.localhost.:80'])(
    'refuses plain http to a name under .localhost (%s), saying to use 127.0.0.1 or https',
    (endpoint) => {
      const error = configError({ ...base, THALASSA_API_ENDPOINT: endpoint });
      expect(error.code).toBe('API_CONFIG');
      expect(error.message).toMatch(/plain http:\/\/ to a name under \.localhost, which is resolved through DNS.*Use http:\/\/127\.0\.0\.1.*or https:\/\//);
      expect(isLoopback(new URL(endpoint).hostname)).toBe(false);
    },
  );

  it('still allows https to a name under .localhost, and plain http to exactly localhost (any case, trailing dot refused)', () => {
    expect(resolveApiConfig({ env: { ...base, THALASSA_API_ENDPOINT: 'https://foo.localhost:8443' } }).endpoint.hostname).toBe('foo.localhost');
    expect(resolveApiConfig({ env: { ...base, THALASSA_API_ENDPOINT: 'http://LocalHost:8080' } }).endpoint.protocol).toBe('http:');
    expect(configError({ ...base, THALASSA_API_ENDPOINT: 'http://localhost.:8080' }).code).toBe('API_CONFIG');
  });

  it('the per-attempt deadline and answer size limit default to 60 s and 16 MiB and can be set', () => {
    expect(resolveApiConfig({ env: base })).toMatchObject({ attemptDeadlineMs: 60_000, maxAnswerBytes: 16 * 1024 * 1024 });
    expect(resolveApiConfig({ env: base, attemptDeadlineMs: 5000, maxAnswerBytes: 1024 })).toMatchObject({ attemptDeadlineMs: 5000, maxAnswerBytes: 1024 });
    expect(() => resolveApiConfig({ env: base, maxAnswerBytes: -1 })).toThrow(/maxAnswerBytes option must be a positive number/);
  });
});
