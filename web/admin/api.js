// Staff sign-in against Cognito (its JSON API, plain fetch) and calls to the Informator API.
// The ID token lives in sessionStorage only (never in a URL); a 401 from the API waits for a new
// sign-in and retries the same call, so nothing the user was writing is lost.

export const config = window.INFORMATOR_CONFIG || {};
const TOKEN_KEY = 'informator.admin.idToken';
const EMAIL_KEY = 'informator.admin.email';

export class ApiError extends Error {
  constructor(status, error) {
    super((error && error.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (error && error.code) || String(status);
    this.fields = (error && error.fields) || {};
  }
}

export function getToken() { return sessionStorage.getItem(TOKEN_KEY); }
export function getEmail() { return sessionStorage.getItem(EMAIL_KEY) || ''; }
export function setSession(idToken, email) {
  sessionStorage.setItem(TOKEN_KEY, idToken);
  if (email) sessionStorage.setItem(EMAIL_KEY, email);
}
export function clearSession() { sessionStorage.removeItem(TOKEN_KEY); }

function cognitoUrl() {
  const c = config.cognito || {};
  const base = c.endpoint || `https://cognito-idp.${config.region}.amazonaws.com`;
  return base.endsWith('/') ? base : `${base}/`;
}

async function cognito(action, body) {
  let resp;
  try {
    resp = await fetch(cognitoUrl(), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1',
                 'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}` },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { code: 'network', message: 'network' });
  }
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const type = String(data.__type || resp.headers.get('x-amzn-errortype') || 'Error');
    throw new ApiError(resp.status, { code: type.split('#').pop().split(':')[0],
                                      message: data.message || data.Message || type });
  }
  return data;
}

/** Result: {done: true} or {challenge, session, username} for the next step. */
function outcome(data, username) {
  if (data.AuthenticationResult) {
    setSession(data.AuthenticationResult.IdToken, username);
    return { done: true };
  }
  return { challenge: data.ChallengeName, session: data.Session, username };
}

export async function signIn(username, password) {
  const data = await cognito('InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH', ClientId: config.cognito.client_id,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  return outcome(data, username);
}

export async function answerChallenge(step, responses) {
  const data = await cognito('RespondToAuthChallenge', {
    ChallengeName: step.challenge, ClientId: config.cognito.client_id, Session: step.session,
    ChallengeResponses: { USERNAME: step.username, ...responses },
  });
  return outcome(data, step.username);
}

let reauthenticate = null;
let pendingReauth = null;
/** fn() returns a promise that resolves once the user has signed in again. */
export function onSessionExpired(fn) { reauthenticate = fn; }

function reauth() {
  if (!pendingReauth) {
    pendingReauth = reauthenticate().finally(() => { pendingReauth = null; });
  }
  return pendingReauth;
}

export async function api(method, path, body, { raw = false, reauth: allowReauth = true } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const headers = { Authorization: `Bearer ${getToken() || ''}` };
    let payload;
    if (body !== undefined) {
      headers['Content-Type'] = raw ? 'text/csv; charset=utf-8' : 'application/json';
      payload = raw ? body : JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(`${config.api}${path}`, { method, headers, body: payload });
    } catch (e) {
      throw new ApiError(0, { code: 'network', message: 'network' });
    }
    if (resp.status === 401 && allowReauth && reauthenticate && attempt < 5) {
      clearSession();
      await reauth();
      continue;
    }
    const text = await resp.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!resp.ok) throw new ApiError(resp.status, data && data.error);
    return data;
  }
}
