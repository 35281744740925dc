// The station console in a real browser (Debian's Chromium driven by
// playwright-core) against real ektp processes: enroll by mouse and by
// keyboard alone, a submit whose answer is lost, a refusal shown next to its
// field, and the station working with central down. Screenshots of the main
// screens go to $EKTP_SCREENSHOTS (default: a temporary folder).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  DATA, closePage, fillApplicant, newPage as openPage, receiptNumber, requestsOutside, sessionToken, stationLogin, stationStatus,
} from './pages.mjs';
import { ADMIN_PASSWORD, SHOTS, World, launchBrowser } from './world.mjs';

let world;
let browser;
// The outbox mirror's USB disk: not plugged in until the mirror test plugs it in.
const usb = mkdtempSync(join(tmpdir(), 'ektp-browser-usb-'));
const mirror = join(usb, 'ektp-mirror');

before(async () => {
  world = await World.start({ stationFlags: ['--outbox-mirror', mirror] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await world?.close();
  rmSync(usb, { recursive: true, force: true });
});

const newPage = () => openPage(browser);
const login = (page) => stationLogin(page, world);

function onlyOwnOrigin(page) {
  assert.deepEqual(requestsOutside(page, world.station.url), [], 'the console asked something other than its own server');
}

test('an operator enrolls a resident with the mouse; the record reaches central and comes back print_ready', async () => {
  const page = await newPage();
  await login(page);
  await fillApplicant(page, { name: 'SITI RAHAYU', subject: 101 });
  await page.screenshot({ path: join(SHOTS, 'station-enrollment.png') });
  await page.getByRole('button', { name: 'Simpan perekaman' }).click();
  const registration = await receiptNumber(page);
  assert.match(registration, /^\S+$/);
  await page.getByText('Rekam baru (KTP pertama)').waitFor();
  await page.getByText('SITI RAHAYU').waitFor();
  await page.screenshot({ path: join(SHOTS, 'station-receipt.png') });

  // Sync, central's pipeline and the feed back: the station hears the verdict.
  const { status } = await stationStatus(world, await sessionToken(page), registration, (b) => b.status === 'print_ready');
  assert.equal(status, 'print_ready');

  await page.getByRole('link', { name: 'Sinkronisasi' }).click();
  await page.getByText('Stasiun terhubung ke pusat. Data terkirim otomatis.').waitFor();
  await page.screenshot({ path: join(SHOTS, 'station-sync.png') });
  onlyOwnOrigin(page);
  await closePage(page);
});

test('a refusal is shown in Bahasa Indonesia next to the field at fault, and nothing is recorded', async () => {
  const page = await newPage();
  await login(page);
  await fillApplicant(page, { name: 'BUDI SANTOSO', subject: 102 });
  await page.getByLabel('Tanggal lahir').fill('2015-01-01');  // too young for a first card
  await page.getByRole('button', { name: 'Simpan perekaman' }).click();
  const error = page.locator('#birth_date-error');
  await error.waitFor();
  assert.match(await error.textContent(), /^Permohonan tidak dapat diproses: Tanggal lahir menunjukkan umur \d+ tahun dan belum pernah kawin/);
  assert.equal(await page.getByLabel('Tanggal lahir').getAttribute('aria-invalid'), 'true');
  const outbox = await world.stationApi('/api/v1/outbox', await sessionToken(page));
  assert.equal(outbox.json.entries.filter((e) => e.kind === 'enrollment').length, 1, 'only the first test\'s enrollment');
  await closePage(page);
});

test('a submit whose answer is lost is sent again with the same key and records the resident once', async () => {
  const page = await newPage();
  await login(page);
  await fillApplicant(page, { name: 'ANI LESTARI', subject: 103 });
  let lost = 0;
  await page.route('**/api/v1/enrollments', async (route) => {
    if (route.request().method() !== 'POST' || lost > 0) return route.continue();
    lost++;
    await route.fetch();  // the station records it ...
    await route.abort('connectionreset');  // ... and the answer never arrives
  });
  await page.getByRole('button', { name: 'Simpan perekaman' }).click();
  await page.getByText('Belum ada jawaban dari stasiun').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Simpan perekaman' }).isDisabled(), true);
  await page.getByRole('button', { name: 'Kirim ulang' }).click();
  const registration = await receiptNumber(page);
  const outbox = await world.stationApi('/api/v1/outbox', await sessionToken(page));
  const mine = outbox.json.entries.filter((e) => e.reference === registration);
  assert.equal(mine.length, 1);
  assert.equal(outbox.json.entries.filter((e) => e.kind === 'enrollment').length, 2);
  await closePage(page);
});

// Moves focus with Tab (at most 120 presses) until `selector` has it.
async function tabTo(page, selector) {
  for (let i = 0; i < 120; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

test('an operator enrolls with the keyboard alone', async () => {
  const page = await newPage();
  // Playwright turns file-chooser interception on when a page gets its first
  // 'filechooser' listener, without waiting for the browser to apply it. Turn
  // it on here, long before a key press opens a chooser that it must catch.
  page.on('filechooser', () => {});
  await page.goto(world.station.url);
  await tabTo(page, '#username');
  await page.keyboard.type('admin');
  await page.keyboard.press('Tab');
  await page.keyboard.type(ADMIN_PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Perekaman e-KTP' }).waitFor();
  const type = async (selector, text) => { await tabTo(page, selector); await page.keyboard.type(text); };
  await type('#name', 'DEWI KUSUMA');
  await type('#place_of_birth', 'NGAWI');
  await tabTo(page, '#birth_date');
  await page.keyboard.type('12052000');
  await type('#occupation', 'PETANI/PEKEBUN');
  await type('#street', 'DUSUN KRAJAN');
  await type('#rt', '1');
  await type('#rw', '2');
  await tabTo(page, '#region-village');
  await page.keyboard.press('ArrowDown');
  const files = async (selector, path) => {
    await tabTo(page, selector);
    const chooser = page.waitForEvent('filechooser', { timeout: 15000 }).catch(async (error) => {
      const focused = await page.evaluate(() => document.activeElement?.outerHTML);
      throw new Error(`Space on ${selector} opened no file chooser; focus was on ${focused}: ${error.message}`);
    });
    await page.keyboard.press('Space');
    await (await chooser).setFiles(path);
  };
  await files('#face', join(DATA, 'face.jpg'));
  await files('#signature', join(DATA, 'signature.png'));
  await type('#scanner-subject', '4');
  await tabTo(page, '#scan-all');
  await page.keyboard.press('Enter');
  await page.locator('#finger-10-status.ok').waitFor();
  // Each finger shows the capture quality the station scored as it was captured.
  await page.locator('#finger-10-status', { hasText: /^terekam, kualitas \d+$/ }).waitFor();
  await tabTo(page, '#submit');
  await page.keyboard.press('Enter');
  const registration = await receiptNumber(page);
  assert.match(registration, /^\S+$/);
  await page.getByText('DEWI KUSUMA').waitFor();
  await closePage(page);
});

test('with central down the station still enrolls, says it is offline, and sends the record once central is back', async () => {
  await world.stopCentral();
  const page = await newPage();
  await login(page);
  await page.locator('#sync-pill.offline').waitFor({ timeout: 15000 });
  await fillApplicant(page, { name: 'RINA WATI', subject: 105 });
  await page.getByRole('button', { name: 'Simpan perekaman' }).click();
  const registration = await receiptNumber(page);
  await page.getByRole('link', { name: 'Sinkronisasi' }).click();
  await page.getByText('Stasiun belum terhubung ke pusat.').waitFor({ timeout: 15000 });
  await page.screenshot({ path: join(SHOTS, 'station-offline.png') });

  await world.restartCentral();
  const token = await sessionToken(page);
  let outbox;
  for (let i = 0; i < 150; i++) {
    outbox = await world.stationApi('/api/v1/outbox?state=pending', token);
    if (!outbox.json.entries.some((e) => e.reference === registration)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(outbox.json.entries.some((e) => e.reference === registration), false, 'still pending after central came back');
  onlyOwnOrigin(page);
  await closePage(page);
});

test('an unplugged mirror disk is shown on the sync screen and never holds up enrollment; plugged in, it is written', async () => {
  const page = await newPage();
  await login(page);
  await page.locator('#sync-pill').getByText('salinan USB gagal').waitFor({ timeout: 15000 });
  await page.getByRole('link', { name: 'Sinkronisasi' }).click();
  await page.getByText('Salinan ke disk USB gagal.').waitFor();
  await page.getByText(`mirror folder ${mirror} does not exist`, { exact: false }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'station-mirror-failing.png') });

  mkdirSync(mirror);
  // The station retries every 2 seconds; the sync screen shows what it last heard.
  const written = page.getByText('tersalin ke disk USB setiap kali berubah', { exact: false });
  for (let i = 0; i < 30 && !(await written.isVisible()); i++) {
    await new Promise((r) => setTimeout(r, 500));
    await page.reload();
    await page.getByRole('heading', { name: 'Sinkronisasi' }).waitFor();
  }
  await written.waitFor({ timeout: 1000 });
  await page.screenshot({ path: join(SHOTS, 'station-mirror-written.png') });
  const marker = readFileSync(join(mirror, 'EKTP-OUTBOX-MIRROR.txt'), 'utf8');
  assert.match(marker, new RegExp(`^ektp-outbox-mirror-v1 ${world.stationId}\n`));
  onlyOwnOrigin(page);
  await closePage(page);
});
