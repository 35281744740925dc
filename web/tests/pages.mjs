// What an operator does on the station console's pages, for the browser tests.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { conformance, watchAnswers } from './openapi.mjs';
import { ADMIN_PASSWORD } from './world.mjs';

export const DATA = resolve(import.meta.dirname, '../../data/demo');
const FVC = resolve(import.meta.dirname, '../../../shared/data/fvc2002');

// Impression IMPRESSION of FVC2002 finger FINGER in database DB, an ISO
// 19794-2 template from the shared test data (../shared/data beside the checkout).
export const fvc = (db, finger, impression) => join(FVC, `DB${db}_B`, `${finger}_${impression}.iso`);

// A page at a laptop's 1366×768 (or `viewport`) that records every URL it
// requests, every script error and every API answer; closePage() fails the
// test on a script error or an answer docs/openapi.yaml does not describe.
export async function newPage(browser, viewport = { width: 1366, height: 768 }) {
  const page = await browser.newPage({ viewport, locale: 'id-ID' });
  page.requests = [];
  page.scriptErrors = [];
  page.on('request', (request) => page.requests.push(request.url()));
  page.on('pageerror', (error) => page.scriptErrors.push(error.message));
  watchAnswers(page);
  return page;
}

export async function closePage(page) {
  const problems = await conformance(page);
  await page.close();
  assert.deepEqual(page.scriptErrors, [], 'the page raised script errors');
  assert.deepEqual(problems, [], 'answers that docs/openapi.yaml does not describe');
}

// Logs `username` in and waits for the first screen of its role (`heading`).
export async function stationLogin(page, world, { username = 'admin', heading = 'Perekaman e-KTP' } = {}) {
  await page.goto(world.station.url);
  await page.getByLabel('Nama pengguna').fill(username);
  await page.getByLabel('Kata sandi').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Masuk' }).click();
  await page.getByRole('heading', { name: heading }).waitFor();
}

async function drawSignature(page) {
  const box = await page.getByRole('img', { name: 'Kotak tanda tangan' }).boundingBox();
  await page.mouse.move(box.x + 30, box.y + 80);
  await page.mouse.down();
  for (const [dx, dy] of [[60, -50], [110, 10], [170, -40], [240, 20]]) await page.mouse.move(box.x + dx, box.y + 60 + dy);
  await page.mouse.up();
}

// Fills the enrollment form by mouse; `subject` picks the simulated
// scanner's person (the same subject twice plants a duplicate).
export async function fillApplicant(page, { name, subject, birthDate = '2001-04-12' }) {
  await page.getByLabel('Nama lengkap').fill(name);
  await page.getByLabel('Tempat lahir').fill('NGAWI');
  await page.getByLabel('Tanggal lahir').fill(birthDate);
  await page.getByLabel('Jenis kelamin').selectOption('female');
  await page.getByLabel('Pekerjaan').fill('PELAJAR/MAHASISWA');
  await page.getByLabel('Jalan, nomor, dusun').fill('JL. RAYA NGAWI NO. 12');
  await page.getByLabel('RT', { exact: true }).fill('3');
  await page.getByLabel('RW', { exact: true }).fill('7');
  await page.getByLabel('Desa/Kelurahan').selectOption({ index: 1 });
  await page.getByLabel('Foto wajah (JPEG)').setInputFiles(join(DATA, 'face.jpg'));
  await drawSignature(page);
  await page.getByLabel('Pemindai simulasi, subjek').fill(String(subject));
  await page.getByRole('button', { name: 'Pindai semua jari' }).click();
  await page.locator('#finger-10-status.ok').waitFor();
}

// The receipt's registration number, once the receipt shows; if it never
// does, the failure says what the form showed instead.
export async function receiptNumber(page) {
  try {
    await page.getByRole('heading', { name: 'Tanda Terima Perekaman e-KTP' }).waitFor();
  } catch (error) {
    const shown = await page.locator('[role=alert], .error').allTextContents().catch(() => []);
    const heading = await page.locator('main h1').allTextContents().catch(() => []);
    error.message += `\nthe page showed instead: ${JSON.stringify(shown.filter((text) => text.trim()))}`
      + ` at ${page.url()} under ${JSON.stringify(heading)}`;
    throw error;
  }
  return (await page.locator('#receipt-registration').textContent()).trim();
}

export async function sessionToken(page) { return page.evaluate(() => sessionStorage.getItem('ektp.session')); }

// Polls the station's view of an enrollment until `until(status)` holds (at most 30 s).
export async function stationStatus(world, token, registration, until) {
  let body;
  for (let i = 0; i < 150; i++) {
    body = (await world.stationApi(`/api/v1/enrollments/${registration}`, token)).json;
    if (until(body)) return body;
    await new Promise((r) => setTimeout(r, 200));
  }
  return body;
}

// Fails unless every request went to `origin` (or stayed inside the page).
export function requestsOutside(page, origin) {
  return page.requests.filter((url) => !url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:'));
}
