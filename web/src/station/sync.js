// Sync status: whether central answers, what waits to go up, and what
// central refused ("parked") with the reason an operator can act on.
import { api, ApiError } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { formatTime, language, t } from '../common/i18n.js';

const POLL_MS = 10000;
let pollTimer = null;

function isOnline(status) { return Boolean(status.last_success) && !status.last_error; }

// Fills the header's status pill and keeps it current while it is on the page.
export async function syncSummary(pill) {
  clearTimeout(pollTimer);
  try {
    const status = await api('/api/v1/sync/status');
    const online = isOnline(status);
    pill.className = `sync-pill ${online ? 'online' : 'offline'}`;
    replace(pill, online ? t('sync.online') : t('sync.offline'), ' · ', t('sync.queued', { count: status.pending }),
      status.parked > 0 ? h('span', { class: 'warn' }, ' · ', t('sync.parkedCount', { count: status.parked })) : null,
      status.mirror?.error ? h('span', { class: 'warn' }, ' · ', t('sync.mirrorFailing')) : null);
  } catch {
    pill.className = 'sync-pill offline';
    replace(pill, t('sync.unknown'));
  }
  if (pill.isConnected) pollTimer = setTimeout(() => syncSummary(pill), POLL_MS);
}

function row(label, value) { return [h('dt', {}, label), h('dd', {}, value)]; }

// The outbox mirror on a USB disk (docs/operations.md, "An outbox mirror on a
// second device"), when the station keeps one.
function mirrorCard(mirror) {
  if (!mirror) return null;
  const failing = Boolean(mirror.error);
  return h('section', { class: 'card' },
    h('h2', {}, t('sync.mirrorTitle')),
    h('p', { class: failing ? 'warn' : 'ok', role: failing ? 'alert' : 'status' },
      failing ? t('sync.mirrorFailingAdvice') : t('sync.mirrorOk')),
    h('dl', { class: 'facts' },
      row(t('sync.mirrorDir'), mirror.dir),
      row(t('sync.mirrorLastWritten'), formatTime(mirror.last_written_at)),
      row(t('sync.mirrorPackets'), String(mirror.packets)),
      failing ? row(t('sync.mirrorError'), mirror.error) : null,
      failing ? row(t('sync.mirrorErrorSince'), formatTime(mirror.error_since)) : null));
}

// A parked entry's reason: in Bahasa Indonesia the station's sentence with
// the precise English beneath it for the admin; in English the English.
function parkedReason(entry) {
  if (language() === 'en' || !entry.pesan) return h('td', {}, entry.last_error);
  return h('td', {}, entry.pesan, h('small', { class: 'detail' }, ` (${entry.last_error})`));
}

export async function renderSync(main) {
  let status;
  let parked;
  try {
    [status, parked] = await Promise.all([api('/api/v1/sync/status'), api('/api/v1/outbox?state=parked')]);
  } catch (error) {
    replace(main, h('p', { class: 'error', role: 'alert' }, error instanceof ApiError ? error.operatorText : String(error)));
    return;
  }
  const online = isOnline(status);
  const advice = status.waiting_for_approval ? t('sync.waitingForApproval')
    : online ? t('sync.allWell') : t('sync.offlineAdvice');
  replace(main,
    h('h1', {}, t('sync.title')),
    h('section', { class: 'card' },
      h('p', { class: online ? 'ok' : 'warn', role: 'status' }, advice),
      h('dl', { class: 'facts' },
        row(t('sync.central'), status.central_url || '—'),
        row(t('sync.lastSuccess'), formatTime(status.last_success)),
        row(t('sync.lastError'), status.last_error || '—'),
        row(t('sync.pending'), String(status.pending)),
        row(t('sync.acked'), String(status.acked)),
        row(t('sync.parked'), String(status.parked)))),
    mirrorCard(status.mirror),
    h('section', { class: 'card' },
      h('h2', {}, t('sync.parkedTitle')),
      parked.entries.length === 0 ? h('p', {}, t('sync.noneParked')) :
        h('table', {},
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('sync.reference')), h('th', { scope: 'col' }, t('sync.kind')),
            h('th', { scope: 'col' }, t('sync.reason')), h('th', { scope: 'col' }, t('sync.createdAt')))),
          h('tbody', {}, parked.entries.map((entry) => h('tr', {},
            h('td', {}, entry.reference), h('td', {}, entry.kind), parkedReason(entry),
            h('td', {}, formatTime(entry.created_at)))))),
      parked.entries.length > 0 ? h('p', { class: 'note' }, t('sync.parkedAdvice')) : null));
}
