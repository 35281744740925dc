// The station console's counter work in a real browser against real ektp
// processes: a print officer receives blanks, prints and dispatches; an
// operator hands cards over after a fingerprint check, with a supervisor's
// override when the check keeps failing; a Suket is issued and checked.
// Each role sees only its screens. Screenshots go to $EKTP_SCREENSHOTS.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  DATA, closePage, fillApplicant, fvc, newPage, receiptNumber, sessionToken, stationLogin, stationStatus,
} from './pages.mjs';
import { ADMIN_PASSWORD, SHOTS, World, launchBrowser } from './world.mjs';

let world;
let browser;
const residents = [];  // {name, subject, registration}, enrolled by the first test

before(async () => {
  world = await World.start();
  world.addStationAccount('ani', 'operator');
  world.addStationAccount('sri', 'supervisor');
  // Sri's right index (FVC finger 107 of DB1), second impression: she approves with it at pickup.
  world.enrollOperatorFingers('sri', { 2: fvc(1, 107, 2) });
  world.addStationAccount('budi', 'print_officer');
  world.handOverBlanks('0001000001', '0001000005');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await world?.close();
});

// Shows screen `hash` afresh, as the menu does, on an emptied page, so what
// the test reads next was drawn by this visit.
async function show(page, hash) {
  await page.evaluate((wanted) => {
    document.getElementById('main')?.replaceChildren();
    if (location.hash === wanted) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = wanted;
  }, hash);
}

// Shows screen `hash` until `selector`'s text matches `pattern` (at most
// 30 s): for what arrives through sync.
async function until(page, hash, selector, pattern) {
  for (let i = 0; i < 60; i++) {
    await show(page, hash);
    const el = page.locator(selector);
    if (await el.first().waitFor({ timeout: 5000 }).then(() => true, () => false)
      && pattern.test(await el.first().textContent())) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${selector} never matched ${pattern}`);
}

async function navLinks(page) {
  return page.getByRole('navigation').getByRole('link').allTextContents();
}

async function scanFingers(page, subject) {
  await page.getByLabel('Pemindai simulasi, subjek').fill(String(subject));
  await page.getByRole('button', { name: 'Pindai semua jari' }).click();
  await page.locator('#finger-10-status.ok').waitFor();
}

// Looks the card up at the pickup counter; true when this station holds it.
async function findCard(page, registration) {
  await show(page, `#/ambil/${registration}`);
  await page.locator('#pickup-card, #pickup-error').first().waitFor();
  return await page.locator('#pickup-card').count() > 0;
}

test('an operator enrolls two residents; the print officer receives blanks, prints both cards and dispatches them', async () => {
  const counter = await newPage(browser);
  await stationLogin(counter, world, { username: 'ani' });
  assert.deepEqual(await navLinks(counter), ['Perekaman', 'Pengambilan', 'Suket', 'Sinkronisasi']);
  for (const [name, subject] of [['SRI MULYANI', 201], ['RUDI HARTONO', 202]]) {
    await fillApplicant(counter, { name, subject });
    await counter.getByRole('button', { name: 'Simpan perekaman' }).click();
    residents.push({ name, subject, registration: await receiptNumber(counter) });
    await counter.getByRole('button', { name: 'Rekam pemohon berikutnya' }).click();
  }
  const token = await sessionToken(counter);
  for (const { registration } of residents) {
    const { status } = await stationStatus(world, token, registration, (b) => b.status === 'print_ready');
    assert.equal(status, 'print_ready');
  }
  await closePage(counter);

  const office = await newPage(browser);
  await stationLogin(office, world, { username: 'budi', heading: 'Cetak KTP' });
  assert.deepEqual(await navLinks(office), ['Cetak', 'Sinkronisasi']);
  await until(office, '#/cetak', '#blanks-expected', /^5$/);
  await office.getByLabel('Nomor blangko pertama').fill('0001000001');
  await office.getByLabel('Nomor blangko terakhir').fill('0001000005');
  await office.getByRole('button', { name: 'Catat penerimaan' }).click();
  await office.getByText('5 blangko tercatat diterima.').waitFor();
  assert.equal(await office.locator('#blanks-on-hand').textContent(), '5');

  await until(office, '#/cetak', '#print-jobs', new RegExp(residents[1].registration));
  for (const expected of ['0001000001', '0001000002']) {
    await office.getByRole('button', { name: 'Cetak kartu berikutnya' }).click();
    await office.locator('#print-notice').getByText(`pada blangko ${expected}.`).waitFor();
  }
  assert.equal(await office.locator('#blanks-on-hand').textContent(), '3');
  assert.equal(await office.locator('#blanks-used').textContent(), '2');
  assert.equal(await office.getByRole('button', { name: 'Cetak kartu berikutnya' }).isDisabled(), true);
  await office.screenshot({ path: join(SHOTS, 'station-print.png') });

  await office.getByRole('button', { name: 'Buat manifes pengiriman' }).click();
  const manifest = office.locator('#manifests article');
  await manifest.waitFor();
  for (const { registration } of residents) await manifest.getByText(registration, { exact: false }).waitFor();
  await closePage(office);
});

test('a resident collects their card after a fingerprint check at the counter', async () => {
  const [resident] = residents;
  const page = await newPage(browser);
  await stationLogin(page, world, { username: 'ani' });
  // The card reaches this station once central passes the manifest on.
  for (let i = 0; !(await findCard(page, resident.registration)); i++) {
    assert.ok(i < 60, `the dispatched card never reached the pickup counter: ${await page.locator('#pickup-error').textContent()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await scanFingers(page, resident.subject);
  await page.getByRole('button', { name: 'Periksa sidik jari' }).click();
  assert.match(await page.locator('#pickup-notice').textContent(), /^Sidik jari cocok \(skor [\d.]+, batas [\d.]+\)/);
  await page.getByRole('button', { name: 'Serahkan dan aktifkan' }).click();
  await page.getByRole('heading', { name: 'KTP diserahkan dan aktif' }).waitFor();
  await page.getByText(resident.name).waitFor();
  await page.screenshot({ path: join(SHOTS, 'station-pickup.png') });

  assert.equal(await findCard(page, resident.registration), true);
  await page.getByText('Kartu ini sudah diserahkan dan aktif sejak').waitFor();
  const { status } = await stationStatus(world, await sessionToken(page), resident.registration,
    (b) => b.status === 'activated');
  assert.equal(status, 'activated');
  await closePage(page);
});

test('a Suket issued at the counter is valid when checked at the station', async () => {
  const resident = residents[1];
  const page = await newPage(browser);
  await stationLogin(page, world, { username: 'ani' });
  await page.getByRole('navigation').getByRole('link', { name: 'Suket' }).click();
  await page.getByLabel('Nomor registrasi').fill(resident.registration);
  await page.getByRole('button', { name: 'Terbitkan Suket' }).click();
  await page.getByText('Foto wajah belum ada.').waitFor();
  await page.getByLabel('Foto wajah saat ini (JPEG)').setInputFiles(join(DATA, 'face.jpg'));
  await page.getByRole('button', { name: 'Terbitkan Suket' }).click();
  await page.getByRole('heading', { name: 'Suket terbit' }).waitFor();
  assert.match(await page.locator('#suket-serial').textContent(), /\S+/);
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Simpan PDF' }).click();
  const saved = await download;
  assert.match(saved.suggestedFilename(), /^suket-\S+\.pdf$/);
  assert.equal(readFileSync(await saved.path()).subarray(0, 5).toString(), '%PDF-');
  await page.screenshot({ path: join(SHOTS, 'station-suket.png') });

  const token = await page.locator('#suket-token').textContent();
  assert.match(token, /^KTP1:/);
  await page.getByLabel('Teks QR Suket').fill(token);
  await page.getByRole('button', { name: 'Periksa', exact: true }).click();
  await page.locator('#verify-result .ok').waitFor();
  await page.getByLabel('Teks QR Suket').fill(`${token.slice(0, -4)}AAAA`);
  await page.getByRole('button', { name: 'Periksa', exact: true }).click();
  await page.locator('#verify-result .error').waitFor();
  await closePage(page);
});

test('after three failed checks a supervisor approves at the operator\'s screen, and a relative collects the card', async () => {
  const resident = residents[1];
  const page = await newPage(browser);
  await stationLogin(page, world, { username: 'ani' });
  assert.equal(await findCard(page, resident.registration), true);
  for (let attempt = 1; attempt <= 3; attempt++) {
    await scanFingers(page, 999999);  // someone else's fingers
    await page.getByRole('button', { name: 'Periksa sidik jari' }).click();
    await page.getByText(`Sidik jari tidak cocok (percobaan ${attempt}`).waitFor();
    assert.equal(await page.locator('#override-form').count(), attempt === 3 ? 1 : 0);
  }
  // An operator cannot approve; the refusal names it and ani stays logged in.
  await page.getByLabel('Nama pengguna supervisor').fill('ani');
  await page.getByLabel('Kata sandi').fill(ADMIN_PASSWORD);
  await page.getByLabel('Alasan (tercatat di jejak audit)').fill('sidik jari aus, identitas dicek dengan KK');
  await page.getByRole('button', { name: 'Setujui penyerahan' }).click();
  await page.locator('#override-message').getByText(/tidak berwenang.*supervisor/).waitFor();
  assert.match(await page.locator('header .who').textContent(), /ANI \(operator\)/);

  // The supervisor's username alone: told to add a password or a finger.
  await page.getByLabel('Nama pengguna supervisor').fill('sri');
  await page.getByRole('button', { name: 'Setujui penyerahan' }).click();
  await page.locator('#override-message').getByText('lalu kata sandinya atau berkas sidik jarinya').waitFor();
  await page.locator('#override-form').screenshot({ path: join(SHOTS, 'station-pickup-override.png') });
  // Sri approves with her enrolled right index, from the scanner's file (a third impression).
  await page.getByLabel('Jari', { exact: true }).selectOption('2');
  await page.getByLabel('Berkas sidik jari dari pemindai').setInputFiles(fvc(1, 107, 3));
  await page.getByRole('button', { name: 'Setujui penyerahan' }).click();
  await page.getByText('Supervisor menyetujui penyerahan.').waitFor();
  assert.match(await page.locator('#pickup-card').textContent(), /Disetujui supervisor\s*sri/);
  assert.match(await page.locator('header .who').textContent(), /ANI \(operator\)/);

  await page.getByLabel('Diambil oleh wakil keluarga').check();
  await page.getByLabel('Nama wakil').fill('SITI HARTONO');
  await page.getByLabel('NIK wakil').fill('3521014104010001');
  await page.getByLabel('Hubungan').selectOption('spouse');
  await page.getByRole('button', { name: 'Serahkan dan aktifkan' }).click();
  await page.locator('#hand-over-message').getByText(/KTP lama pemilik yang diserahkan/).waitFor();  // a relative brings it
  await page.getByLabel('NIK pada KTP lama').fill(await page.locator('#pickup-nik').textContent());
  await page.getByLabel('Nomor KTP lama').fill('3521-0001-2019');
  await page.getByRole('button', { name: 'Serahkan dan aktifkan' }).click();
  await page.getByRole('heading', { name: 'KTP diserahkan dan aktif' }).waitFor();
  await page.getByText(resident.name).waitFor();
  await closePage(page);
});
