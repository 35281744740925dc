// Central's console and public page in a real browser against real ektp
// processes: two enrollments of one person at a station become a duplicate
// case; an adjudicator logs in, sees the dashboard, and decides the case in
// the console, which names the account; a resident looks up the status of the
// first on a phone. Screenshots go to $EKTP_SCREENSHOTS.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  closePage, fillApplicant, newPage, receiptNumber, requestsOutside, sessionToken, stationLogin, stationStatus,
} from './pages.mjs';
import { ADMIN_PASSWORD, SHOTS, World, launchBrowser } from './world.mjs';

let world;
let browser;
const enrolled = {};

before(async () => {
  world = await World.start();
  world.addCentralAccount('adjudikator', 'adjudicator');
  world.addCentralAccount('pengawas', 'supervisor');
  world.addCentralAccount('kepala', 'admin');
  browser = await launchBrowser(world);
  // The same person (scanner subject 301) enrolled twice under two names.
  const page = await newPage(browser);
  await stationLogin(page, world);
  for (const name of ['SRI WAHYUNI', 'SRI WAHYUNINGSIH']) {
    await fillApplicant(page, { name, subject: 301 });
    await page.getByRole('button', { name: 'Simpan perekaman' }).click();
    enrolled[name] = await receiptNumber(page);
    await page.getByRole('button', { name: 'Rekam pemohon berikutnya' }).click();
    await page.getByRole('heading', { name: 'Perekaman e-KTP' }).waitFor();
  }
  const token = await sessionToken(page);
  enrolled.first = await stationStatus(world, token, enrolled['SRI WAHYUNI'], (b) => b.status === 'print_ready');
  enrolled.second = await stationStatus(world, token, enrolled['SRI WAHYUNINGSIH'], (b) => b.status === 'adjudication');
  await closePage(page);
});

after(async () => {
  await browser?.close();
  await world?.close();
});

async function centralLogin(page, username) {
  await page.goto(`${world.central.url}/console`);
  await page.getByLabel('Nama pengguna').fill(username);
  await page.getByLabel('Kata sandi').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Masuk' }).click();
}

test('the planted duplicate reached adjudication and its first enrollment print_ready', () => {
  assert.equal(enrolled.first.status, 'print_ready');
  assert.match(enrolled.first.nik, /^\d{16}$/);
  assert.equal(enrolled.second.status, 'adjudication');
});

test('a wrong password is refused in Bahasa Indonesia, and a supervisor sees the dashboard but not adjudication', async () => {
  const page = await newPage(browser);
  await page.goto(`${world.central.url}/console`);
  await page.getByLabel('Nama pengguna').fill('pengawas');
  await page.getByLabel('Kata sandi').fill('salah-sekali');
  await page.getByRole('button', { name: 'Masuk' }).click();
  await page.getByText('Nama pengguna atau kata sandi salah').waitFor();
  await page.getByLabel('Kata sandi').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Masuk' }).click();
  await page.getByRole('heading', { name: 'Dasbor nasional' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Adjudikasi' }).count(), 0);
  const refused = await page.evaluate(async () => (await fetch('/api/v1/console/adjudications',
    { headers: { Authorization: `Bearer ${sessionStorage.getItem('ektp.session')}` } })).status);
  assert.equal(refused, 403);
  await closePage(page);
});

test('an adjudicator drills into the dashboard and decides the case; the decision names the account', async () => {
  const page = await newPage(browser);
  await centralLogin(page, 'adjudikator');
  await page.getByRole('heading', { name: 'Dasbor nasional' }).waitFor();
  // Indonesia -> Jawa Timur -> Kabupaten Ngawi, through the region table.
  await page.locator('#region-table').getByRole('link', { name: 'Jawa Timur' }).click();
  await page.locator('#region-table').getByRole('link', { name: /Ngawi/ }).click();
  await page.getByRole('navigation', { name: 'Wilayah' }).getByRole('link', { name: /Ngawi/ }).waitFor();
  const row = page.locator('#region-table tbody tr').first();
  assert.match(await row.textContent(), /Sine/);
  assert.equal(await page.locator('#station-table tbody tr').count(), 1);
  assert.match(await page.locator('#station-table tbody').textContent(), new RegExp(world.stationId));
  await page.locator('#integrity').getByText('Tidak ada tanda yang menonjol.').waitFor();
  await page.locator('#chart-throughput').waitFor();
  await page.screenshot({ path: join(SHOTS, 'central-dashboard.png') });

  await page.getByRole('link', { name: 'Adjudikasi' }).click();
  // Why the case was opened, in Bahasa Indonesia in the list and the case.
  const suspicion = 'sidik jari cocok dengan 1 penduduk yang sudah tercatat';
  await page.locator('#case-table').getByText(suspicion).waitFor();
  await page.getByRole('link', { name: enrolled['SRI WAHYUNINGSIH'] }).click();
  await page.getByRole('heading', { name: `Kasus ${enrolled['SRI WAHYUNINGSIH']}` }).waitFor();
  await page.getByText(`Dugaan: ${suspicion}`).waitFor();
  await page.getByText('SRI WAHYUNI', { exact: true }).waitFor();
  await page.locator('img.face[src^="blob:"]').nth(1).waitFor();
  await page.screenshot({ path: join(SHOTS, 'central-adjudication.png'), fullPage: true });
  await page.getByLabel('Putusan').selectOption('same_person_reject');
  await page.getByLabel('Alasan (wajib, tercatat di jejak audit)').fill('sidik jari dan wajah sama; nama ditulis berbeda');
  await page.getByRole('button', { name: 'Simpan keputusan' }).click();
  const decided = page.locator('#decided-as');
  await decided.waitFor();
  assert.match(await decided.textContent(), /orang yang sama: tolak permohonan, oleh console:adjudikator/);
  const token = (await world.stationApi('/api/v1/session', '')).status;  // the station's API still needs its own login
  assert.equal(token, 401);
  assert.deepEqual(requestsOutside(page, world.central.url), []);
  await closePage(page);
});

test('an admin creates a registration token, approves the station that used it, then revokes it', async () => {
  const page = await newPage(browser);
  await centralLogin(page, 'kepala');
  await page.getByRole('navigation').getByRole('link', { name: 'Stasiun' }).click();
  await page.locator(`tr[data-station="${world.stationId}"]`).getByText('disetujui').waitFor();
  await page.getByLabel('Provinsi').selectOption('35');
  await page.getByLabel('Kabupaten/Kota').selectOption('35.21');
  await page.getByLabel('Kecamatan').selectOption('35.21.02');
  await page.getByLabel('Jenis').selectOption('mobile_van');
  await page.getByRole('button', { name: 'Buat token' }).click();
  const token = (await page.locator('#token-value').textContent()).trim();
  const command = await page.locator('#token-command').textContent();
  assert.ok(command.includes(`--central ${world.central.url}`), command);
  const van = world.initStation('van', token, command.match(/--fingerprint (\S+)/)[1]);

  await page.reload();
  const row = page.locator(`tr[data-station="${van}"]`);
  await row.getByText('menunggu persetujuan').waitFor();
  await row.getByText('mobil keliling').waitFor();
  await row.getByRole('button', { name: 'Setujui' }).click();
  await page.getByText(`Stasiun ${van} disetujui.`).waitFor();
  await page.screenshot({ path: join(SHOTS, 'central-stations.png'), fullPage: true });
  await row.getByRole('button', { name: 'Cabut' }).click();
  await row.locator('.error').getByText('Isian belum benar').waitFor();  // no reason given
  await row.getByLabel(`Alasan mencabut ${van}`).fill('laptop hilang');
  await row.getByRole('button', { name: 'Cabut' }).click();
  await page.getByText(`Stasiun ${van} dicabut.`).waitFor();
  await row.getByText('dicabut').waitFor();
  assert.equal(await row.getByRole('button').count(), 0);
  await closePage(page);
});

test('an admin takes blanks into national stock, ships them to Ngawi, hands some to the station and plans a supply', async () => {
  const page = await newPage(browser);
  await centralLogin(page, 'kepala');
  await page.getByRole('navigation').getByRole('link', { name: 'Blangko' }).click();
  await page.locator('#national-stock').getByText('0').waitFor();

  const stockIn = page.locator('#stock-in');
  await stockIn.getByLabel('Nomor seri awal').fill('1');
  await stockIn.getByLabel('Nomor seri akhir').fill('500');
  await stockIn.getByLabel(/berita acara/).fill('BA-PABRIK-7');
  await stockIn.getByRole('button', { name: 'Catat' }).click();
  await page.getByText('500 blangko 0000000001-0000000500 masuk stok nasional.').waitFor();

  const ship = page.locator('#ship');
  await ship.getByLabel('Provinsi').selectOption('35');
  await ship.getByLabel('Kabupaten/Kota').selectOption('35.21');
  await ship.getByLabel('Nomor seri awal').fill('1');
  await ship.getByLabel('Nomor seri akhir').fill('300');
  await ship.getByRole('button', { name: 'Catat' }).click();
  await page.getByText('300 blangko 0000000001-0000000300 dikirim ke 35.21.').waitFor();

  const handover = page.locator('#handover');
  await handover.getByLabel('Stasiun').selectOption(world.stationId);
  await handover.getByLabel('Nomor seri awal').fill('1');
  await handover.getByLabel('Nomor seri akhir').fill('100');
  await handover.getByRole('button', { name: 'Catat' }).click();
  await page.getByText(`100 blangko 0000000001-0000000100 diserahkan ke ${world.stationId}`).waitFor();
  assert.equal(await page.locator('#national-stock').textContent(), '200');
  const ngawi = page.locator('tr[data-regency="35.21"]');
  // In the regency store, on the way to the station, at stations.
  assert.deepEqual((await ngawi.locator('td').allTextContents()).slice(0, 3), ['200', '100', '0']);

  // Serials already shipped cannot leave national stock again: refused with what to check.
  await page.locator('#ship').getByLabel('Provinsi').selectOption('35');
  await page.locator('#ship').getByLabel('Kabupaten/Kota').selectOption('35.12');
  await page.locator('#ship').getByLabel('Nomor seri awal').fill('250');
  await page.locator('#ship').getByLabel('Nomor seri akhir').fill('350');
  await page.locator('#ship').getByRole('button', { name: 'Catat' }).click();
  await page.locator('#ship-message').getByText(/tidak ada di stok nasional/).waitFor();
  assert.equal(await page.locator('#national-stock').textContent(), '200');

  // 20 for each of the 514 regencies: exactly the minimum each. Ngawi, with the one backlog (a print_ready
  // record), has its row; the other 513 regencies are one line.
  await page.getByLabel('Jumlah blangko').fill(String(514 * 20));
  await page.getByRole('button', { name: 'Hitung rencana' }).click();
  await page.locator('#plan-summary').waitFor();
  assert.deepEqual(await page.locator('#plan-table tbody th').allTextContents(), ['Kabupaten Ngawi (35.21)']);
  await page.locator('#plan-at-floor').getByText('513 kabupaten/kota lain').waitFor();
  await page.screenshot({ path: join(SHOTS, 'central-blanks.png'), fullPage: true });

  await ngawi.getByRole('link').click();
  await page.getByRole('heading', { name: /Rekonsiliasi blangko Kabupaten Ngawi/ }).waitFor();
  await page.locator('#discrepancies').getByText(/100/).waitFor();  // handed over, not yet confirmed by the station
  await closePage(page);
});

test('a resident looks up the first card on a phone', async () => {
  const page = await newPage(browser, { width: 390, height: 844 });
  await page.goto(world.central.url);
  await page.getByLabel('NIK (16 angka)').fill(enrolled.first.nik);
  await page.getByLabel('Nomor registrasi').fill(enrolled['SRI WAHYUNI']);
  await page.getByRole('button', { name: 'Cek status' }).click();
  await page.locator('#status-stage').waitFor();
  assert.equal(await page.locator('#status-stage').textContent(), 'siap cetak');
  await page.screenshot({ path: join(SHOTS, 'public-status.png'), fullPage: true });
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Check your card\'s status' }).waitFor();
  await closePage(page);
});
