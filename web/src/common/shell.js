// What every logged-in console page shares: the session, the language
// toggle and the login form.
import { api, ApiError, sessionToken, setSessionToken } from './api.js';
import { h, replace } from './dom.js';
import { language, setLanguage, t } from './i18n.js';

export function failureText(error) { return error instanceof ApiError ? error.operatorText : String(error); }

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

// The login form into `main`: posts to `path`, keeps the token, then `onLoggedIn()`.
export function renderLogin(main, { titleKey, path, onLoggedIn }) {
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true,
    autofocus: true, 'aria-describedby': 'login-error' });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password',
    required: true, 'aria-describedby': 'login-error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
  replace(main, h('form', { class: 'card narrow', onsubmit: async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    try {
      const { token } = await api(path, { method: 'POST',
        body: { username: username.value.trim(), password: password.value } });
      setSessionToken(token);
      onLoggedIn();
    } catch (failure) {
      error.textContent = failureText(failure);
      password.select();
    } finally {
      submit.disabled = false;
    }
  } },
  h('h1', {}, t(titleKey)),
  h('label', { for: 'username' }, t('login.username')), username,
  h('label', { for: 'password' }, t('login.password')), password,
  error, submit));
}

// Ends the session at `path` (whatever the server says) and clears it here.
export async function logout(path) {
  try { await api(path, { method: 'POST' }); } catch { /* the session ends here either way */ }
  setSessionToken(null);
}
