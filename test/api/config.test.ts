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
  it('reads the Terraform provider\'s variable names, defaulting the endpoint', () => {
    const config = resolveApiConfig({ env: { ...base, THALASSA_PROJECT_ID: 'prj-9' } });
    expect(config.endpoint.href).toBe('https://api.thalassa.cloud/');
    expect(config.organisation).toBe('org-1');
    expect(config.projectId).toBe('prj-9');
    expect(config.credentials).toEqual({ kind: 'token', token: 'pat-secret-123', source: 'THALASSA_API_TOKEN' });
  });

  it('prefers a PAT, then an access token, then client credentials; options beat the environment', () => {
    expect(resolveApiConfig({ env: { THALASSA_ORGANISATION: 'o', THALASSA_ACCESS_TOKEN: 'at' } }).credentials.kind).toBe('access-token');
    expect(resolveApiConfig({ env: { THALASSA_ORGANISATION: 'o', THALASSA_CLIENT_ID: 'id', THALASSA_CLIENT_SECRET: 's' } }).credentials.kind).toBe('client-credentials');
    expect(resolveApiConfig({ env: base, accessToken: 'x', organisation: 'other' })).toMatchObject({ organisation: 'other', credentials: { kind: 'access-token' } });
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
