// The console's language: Bahasa Indonesia by default, English as a toggle
// kept in localStorage. Every text on screen comes from the catalogue in
// messages.js; the server's refusals carry both languages ("pesan" for
// operators in Bahasa Indonesia, "error" precise in English).
import { messages } from './messages.js';

const LANG_KEY = 'ektp.lang';
const listeners = new Set();

export function language() {
  const stored = localStorage.getItem(LANG_KEY);
  return stored === 'en' ? 'en' : 'id';
}

export function setLanguage(lang) {
  localStorage.setItem(LANG_KEY, lang === 'en' ? 'en' : 'id');
  document.documentElement.lang = language();
  for (const listener of listeners) listener();
}

export function onLanguageChange(listener) { listeners.add(listener); }

// The message `key` with each {name} replaced by params[name]. An unknown
// key shows as itself, so a missing entry is visible, never blank.
export function t(key, params = {}) {
  const text = messages[language()][key] ?? messages.id[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

// The text of a refusal from the server's JSON body.
export function errorText(body) {
  if (language() === 'en') return body.error ?? body.pesan ?? t('error.unknown');
  return body.pesan ?? body.error ?? t('error.unknown');
}

// A number in the reader's language ("143,94" in Bahasa Indonesia), with
// `digits` decimals.
export function formatNumber(value, digits = 0) {
  return Number(value).toLocaleString(language() === 'en' ? 'en-GB' : 'id-ID',
    { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

// "2026-12-06T09:37:17Z" in the reader's language, in WIB (Asia/Jakarta).
export function formatTime(iso) {
  if (!iso) return t('common.never');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(language() === 'en' ? 'en-GB' : 'id-ID', {
    timeZone: 'Asia/Jakarta', dateStyle: 'medium', timeStyle: 'short',
  }) + ' WIB';
}

document.documentElement.lang = language();
