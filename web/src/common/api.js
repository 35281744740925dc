// Requests to the server that served the page, and nothing else. The
// session token lives in sessionStorage: it ends with the browser tab.
import { errorText, t } from './i18n.js';

const TOKEN_KEY = 'ektp.session';

export function sessionToken() { return sessionStorage.getItem(TOKEN_KEY); }
export function setSessionToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// A refused or failed request. `status` is the HTTP status, 0 when no answer
// arrived (network down, timeout): then the request may or may not have been
// applied. `field` names the form field at fault when the server said so.
export class ApiError extends Error {
  constructor(status, body) {
    super(body.error ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.field = body.field ?? '';
  }
  // What the operator reads, in the console's language.
  get operatorText() { return errorText(this.body); }
  get answered() { return this.status !== 0; }
}

// JSON in, JSON out. `body` is sent as JSON; `form` (FormData) as multipart.
// `asToken` sends another account's session instead of this tab's (a
// supervisor approving at the operator's screen); a 401 then leaves this
// tab's session alone.
export async function api(path, { method = 'GET', body, form, headers = {}, timeoutMs = 20000, asToken } = {}) {
  const sendHeaders = { Accept: 'application/json', ...headers };
  const token = asToken ?? sessionToken();
  if (token) sendHeaders.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    sendHeaders['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  } else if (form !== undefined) {
    payload = form;
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(path, { method, headers: sendHeaders, body: payload, signal: abort.signal });
  } catch (error) {
    throw new ApiError(0, { error: `no answer: ${error.message}`, pesan: t('error.noAnswer') });
  } finally {
    clearTimeout(timer);
  }
  const text = await response.text();
  let json = {};
  try { json = text ? JSON.parse(text) : {}; } catch { json = { error: text }; }
  if (!response.ok) {
    if (response.status === 401 && asToken === undefined) setSessionToken(null);
    throw new ApiError(response.status, json);
  }
  return json;
}
