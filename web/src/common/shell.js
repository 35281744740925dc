// What every logged-in console page shares: the session, the language
// toggle and the login form.
import { api, ApiError, sessionToken, setSessionToken } from './api.js';
import { h, replace } from './dom.js';
import { language, setLanguage, t } from './i18n.js';

export function failureText(error) { return error instanceof ApiError ? error.operatorText : String(error); }

// A refusal into `element`: the reader's sentence and, when the console speaks
// Bahasa Indonesia, the server's precise English beneath it for the admin or
// the help desk.
export function showFailure(element, error) {
  element.textContent = failureText(error);
  if (language() === 'id' && error instanceof ApiError && error.body?.error) {
    element.append(h('small', { class: 'detail' }, ` (${error.body.error})`));
  }
}

// The logged-in account from `path`, or null when there is none (or it expired).
export async function loadSession(path) {
  if (!sessionToken()) return null;
  try {
    return await api(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export function languageToggle() {
  const other = language() === 'id' ? 'en' : 'id';
  return h('button', { type: 'button', class: 'link', lang: other, onclick: () => setLanguage(other) },
    t('common.otherLanguage'));
}

// The login form into `main`: posts to `path`, keeps the token, then
// `onLoggedIn()`. With `fingerprint` (the station's operators and
// supervisors), the username may instead go with one finger: its position and
// the template file the counter's scanner wrote, sent as
// {username, fingerprint: {position, template (base64)}} (docs/openapi.yaml).
export function renderLogin(main, { titleKey, path, onLoggedIn, fingerprint = false }) {
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true,
    autofocus: true, 'aria-describedby': 'login-error' });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password',
    required: true, 'aria-describedby': 'login-error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
  const logIn = async (body, onRefused) => {
    error.textContent = '';
    try {
      const { token } = await api(path, { method: 'POST', body });
      setSessionToken(token);
      onLoggedIn();
    } catch (failure) {
      error.textContent = failureText(failure);
      onRefused();
    }
  };
  replace(main, h('form', { class: 'card narrow', onsubmit: async (event) => {
    event.preventDefault();
    submit.disabled = true;
    await logIn({ username: username.value.trim(), password: password.value }, () => password.select());
    submit.disabled = false;
  } },
  h('h1', {}, t(titleKey)),
  h('label', { for: 'username' }, t('login.username')), username,
  h('label', { for: 'password' }, t('login.password')), password,
  error, submit,
  fingerprint ? fingerprintLogin(username, error, logIn) : null));
}

// The fingerprint half of the station's login form.
function fingerprintLogin(username, error, logIn) {
  const finger = fingerprintCredential('login', 'login-error');
  const use = h('button', { type: 'button', onclick: async () => {
    if (!username.value.trim() || !finger.chosen()) {
      error.textContent = t('login.needTemplate');
      return;
    }
    use.disabled = true;
    await logIn({ username: username.value.trim(), fingerprint: await finger.value() }, finger.clear);
    use.disabled = false;
  } }, t('login.fingerprintSubmit'));
  return h('fieldset', { class: 'fingerprint-login' },
    h('legend', {}, t('login.fingerprint')), ...finger.fields, use);
}

// One of an account's own enrolled fingers, as a login credential: the
// finger's position and the template file the counter's scanner wrote.
// `prefix` names the elements (PREFIX-finger, PREFIX-template); `describedBy`
// is the id of the element that shows a refusal; `value()` resolves to the
// API's {position, template (base64)}.
export function fingerprintCredential(prefix, describedBy) {
  const finger = h('select', { id: `${prefix}-finger`, name: `${prefix}-finger` },
    ...[2, 7, 1, 6, 3, 8, 4, 9, 5, 10].map((position) => h('option', { value: String(position) }, t(`finger.${position}`))));
  const file = h('input', { id: `${prefix}-template`, name: `${prefix}-template`, type: 'file',
    'aria-describedby': describedBy });
  return {
    fields: [h('label', { for: finger.id }, t('login.finger')), finger, h('label', { for: file.id }, t('login.template')), file],
    chosen: () => Boolean(file.files?.[0]),
    value: async () => {
      const bytes = new Uint8Array(await file.files[0].arrayBuffer());
      let binary = '';
      for (const byte of bytes) binary += String.fromCharCode(byte);
      return { position: Number(finger.value), template: btoa(binary) };
    },
    clear: () => { file.value = ''; },
  };
}

// Ends the session at `path` (whatever the server says) and clears it here.
export async function logout(path) {
  try { await api(path, { method: 'POST' }); } catch { /* the session ends here either way */ }
  setSessionToken(null);
}
