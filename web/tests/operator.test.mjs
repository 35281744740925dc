// An operator logs in at the station console with their own finger (issue 19
// item 3): a wrong finger and a finger not enrolled are refused with the
// reason in Bahasa Indonesia, then the enrolled finger opens the console. The
// templates are FVC2002 impressions from the shared test data
// (../shared/data beside the checkout); the login screen goes to
// $EKTP_SCREENSHOTS.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { closePage, fvc, newPage, requestsOutside } from './pages.mjs';
import { SHOTS, World, launchBrowser } from './world.mjs';

let world;
let browser;

before(async () => {
  world = await World.start();
  world.addStationAccount('ani', 'operator');
  // Ani's right index (FVC finger 106 of DB1) and left index (DB2), second impression.
  world.enrollOperatorFingers('ani', { 2: fvc(1, 106, 2), 7: fvc(2, 106, 2) });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await world?.close();
});

test('an operator logs in with her own finger; a wrong or unenrolled finger is refused with the reason', async () => {
  const page = await newPage(browser);
  await page.goto(world.station.url);
  await page.getByLabel('Nama pengguna').fill('ani');
  const alert = page.getByRole('alert');

  // Without a file: told what to give.
  await page.getByRole('button', { name: 'Pakai sidik jari' }).click();
  await alert.filter({ hasText: 'pilih berkas sidik jari dari pemindai' }).waitFor();

  // Someone else's right index.
  await page.getByLabel('Jari', { exact: true }).selectOption({ label: 'Telunjuk kanan' });
  await page.getByLabel('Berkas sidik jari dari pemindai').setInputFiles(fvc(1, 104, 4));
  await page.getByRole('button', { name: 'Pakai sidik jari' }).click();
  await alert.filter({ hasText: 'Sidik jari tidak cocok dengan telunjuk kanan yang terdaftar' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'station-fingerprint-login-refused.png') });

  // A finger she never enrolled.
  await page.getByLabel('Jari', { exact: true }).selectOption({ label: 'Jari tengah kanan' });
  await page.getByLabel('Berkas sidik jari dari pemindai').setInputFiles(fvc(1, 106, 4));
  await page.getByRole('button', { name: 'Pakai sidik jari' }).click();
  await alert.filter({ hasText: 'Jari yang ditempelkan (jari tengah kanan) tidak terdaftar untuk akun Anda' }).waitFor();
  assert.match(await alert.textContent(), /Gunakan jari yang terdaftar: telunjuk kanan, telunjuk kiri\./);

  // Her right index, another impression than the enrolled one: the console opens as hers.
  await page.getByLabel('Jari', { exact: true }).selectOption({ label: 'Telunjuk kanan' });
  await page.getByLabel('Berkas sidik jari dari pemindai').setInputFiles(fvc(1, 106, 4));
  await page.getByRole('button', { name: 'Pakai sidik jari' }).click();
  await page.getByRole('heading', { name: 'Perekaman e-KTP' }).waitFor();
  await page.getByText('ANI').first().waitFor();
  assert.deepEqual(requestsOutside(page, world.station.url), [], 'the console asked something other than its own server');
  await closePage(page);
});
