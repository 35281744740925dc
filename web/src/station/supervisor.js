// A supervisor's approval given at the operator's screen: the finger
// exceptions at enrollment and the override at pickup. The supervisor enters
// their own username and either their password or one of the fingers they
// enrolled (docs/operations.md, "Operators accountable by fingerprint") with
// the template file from the counter's scanner.
//
// The caller lays out `username`, `password` and `fingerprint` (a fieldset).
// `signIn()` logs the supervisor in (POST /api/v1/login: the finger when a
// file is chosen, the password otherwise) and resolves to the session's
// token, or throws the refusal's ApiError; either way the password and the
// file are cleared. The caller uses the session for its one request and ends
// it.
import { api } from '../common/api.js';
import { h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { fingerprintCredential } from '../common/shell.js';

export function supervisorSignIn(prefix, describedBy) {
  const username = h('input', { autocomplete: 'off' });
  const password = h('input', { type: 'password', autocomplete: 'off' });
  const finger = fingerprintCredential(prefix, describedBy);
  return {
    username,
    password,
    fingerprint: h('fieldset', { class: 'fingerprint-login' }, h('legend', {}, t('supervisor.orFinger')),
      ...finger.fields),
    complete: () => Boolean(username.value.trim()) && (Boolean(password.value) || finger.chosen()),
    async signIn() {
      try {
        const body = { username: username.value.trim() };
        if (finger.chosen()) body.fingerprint = await finger.value();
        else body.password = password.value;
        return (await api('/api/v1/login', { method: 'POST', asToken: '', body })).token;
      } finally {
        password.value = '';
        finger.clear();
      }
    },
  };
}
