// A supervisor's review before upload in a real browser, at a station whose
// policy requires it: nothing an operator records leaves the station until a
// supervisor approves it; a rejection needs a reason and parks the record.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  closePage, fillApplicant, newPage, receiptNumber, sessionToken, stationLogin, stationStatus,
} from './pages.mjs';
import { World, launchBrowser } from './world.mjs';

let world;
let browser;

before(async () => {
  world = await World.start({ stationFlags: ['--review-required'] });
  world.addStationAccount('ani', 'operator');
  world.addStationAccount('sri', 'supervisor');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await world?.close();
});

test('a supervisor approves one enrollment and rejects another with a reason; only the approved one reaches central', async () => {
  const counter = await newPage(browser);
  await stationLogin(counter, world, { username: 'ani' });
  assert.equal((await counter.getByRole('navigation').getByRole('link').allTextContents()).includes('Tinjauan'), false);
  const registrations = [];
  for (const [name, subject] of [['WATI SUSANTI', 401], ['EKO PRASETYO', 402]]) {
    await fillApplicant(counter, { name, subject });
    await counter.getByRole('button', { name: 'Simpan perekaman' }).click();
    registrations.push(await receiptNumber(counter));
    await counter.getByRole('button', { name: 'Rekam pemohon berikutnya' }).click();
  }
  const token = await sessionToken(counter);
  const pending = await world.stationApi('/api/v1/outbox?state=pending', token);
  assert.equal(pending.json.entries.filter((e) => e.kind === 'enrollment').length, 0, 'uploaded before review');
  await closePage(counter);

  const page = await newPage(browser);
  await stationLogin(page, world, { username: 'sri' });
  await page.getByRole('navigation').getByRole('link', { name: 'Tinjauan' }).click();
  const [approve, reject] = registrations.map((r) => page.locator(`article[data-registration="${r}"]`));
  await approve.getByText('WATI SUSANTI').waitFor();
  await reject.getByText('EKO PRASETYO').waitFor();
  await approve.getByRole('button', { name: 'Setujui' }).click();
  await page.getByText(`Perekaman ${registrations[0]} disetujui`).waitFor();
  await reject.getByRole('button', { name: 'Tolak' }).click();
  await reject.locator('.error').getByText(/Alasan penolakan wajib diisi/).waitFor();
  await reject.getByLabel('Alasan menolak').fill('foto wajah buram; rekam ulang');
  await reject.getByRole('button', { name: 'Tolak' }).click();
  await page.getByText(`Perekaman ${registrations[1]} ditolak`).waitFor();
  await page.getByText('Tidak ada perekaman yang menunggu tinjauan.').waitFor();

  const reviewer = await sessionToken(page);
  const { status } = await stationStatus(world, reviewer, registrations[0], (b) => b.status === 'print_ready');
  assert.equal(status, 'print_ready');
  const parked = await world.stationApi('/api/v1/outbox?state=parked', reviewer);
  const entry = parked.json.entries.find((e) => e.reference === registrations[1]);
  assert.match(entry.last_error, /rejected at review by sri: foto wajah buram; rekam ulang/);
  assert.equal(entry.pesan, 'Ditolak oleh sri saat tinjauan: foto wajah buram; rekam ulang.');
  // The operator reads it on the sync screen in Bahasa Indonesia.
  await page.getByRole('link', { name: 'Sinkronisasi' }).click();
  await page.getByRole('cell', { name: /^Ditolak oleh sri saat tinjauan: foto wajah buram; rekam ulang\./ }).waitFor();
  await closePage(page);
});
