// Finger exceptions in a real browser: the operator marks a finger missing,
// attaches the photo of the hand and has a supervisor approve in place with
// their own username and password, or their enrolled finger; without the
// photo, with an operator's or
// the operator's own approval, or a wrong password, nothing is recorded and
// the form says why in Bahasa Indonesia. The approved exception reaches
// central, whose integrity report counts it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  DATA, closePage, fillApplicant, fvc, newPage, receiptNumber, sessionToken, stationLogin, stationStatus,
} from './pages.mjs';
import { ADMIN_PASSWORD, World, ektp, launchBrowser } from './world.mjs';

let world;
let browser;

before(async () => {
  world = await World.start();
  world.addStationAccount('ani', 'operator');
  world.addStationAccount('tono', 'operator');
  world.addStationAccount('sri', 'supervisor');
  // Sri's right index (FVC finger 108 of DB2), first impression.
  world.enrollOperatorFingers('sri', { 2: fvc(2, 108, 1) });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await world?.close();
});

test('a finger marked missing needs the hand\'s photo and a supervisor\'s approval, typed in place', async () => {
  const page = await newPage(browser);
  await stationLogin(page, world, { username: 'ani' });
  await fillApplicant(page, { name: 'RINA MARLINA', subject: 501 });
  const panel = page.locator('#exception-approval');
  assert.equal(await panel.isHidden(), true, 'the approval shows only with an exception');
  await page.getByLabel('Pengecualian Kelingking kiri').selectOption('amputated');
  await panel.waitFor();
  assert.equal(await page.locator('#finger-10-status').textContent(), 'belum');
  const submit = page.getByRole('button', { name: 'Simpan perekaman' });
  const outbox = async () => (await world.stationApi('/api/v1/outbox', await sessionToken(page))).json.entries
    .filter((e) => e.kind === 'enrollment').length;

  // No photo of the hand: refused before anything is sent.
  await submit.click();
  await page.locator('#exception_photo-error', { hasText: 'Foto tangan untuk jari yang dikecualikan belum ada' }).waitFor();

  // An operator's approval, then the operator's own: refused by the station, said in Bahasa Indonesia.
  await page.getByLabel('Foto tangan (JPEG atau PNG)').setInputFiles(join(DATA, 'face.jpg'));
  const supervisor = page.getByLabel('Nama pengguna penyelia');
  const password = page.getByLabel('Kata sandi penyelia');
  const refusal = page.locator('#exception-supervisor-error');
  await supervisor.fill('tono');
  await password.fill(ADMIN_PASSWORD);
  await submit.click();
  await refusal.getByText('Persetujuan ditolak: akun tono bukan penyelia.', { exact: false }).waitFor();
  assert.equal(await password.inputValue(), '', 'the password is not kept');
  await supervisor.fill('ani');
  await password.fill(ADMIN_PASSWORD);
  await submit.click();
  await refusal.getByText('tidak boleh menyetujui pengecualian sidik jarinya sendiri', { exact: false }).waitFor();
  // A wrong password: the login refuses it.
  await supervisor.fill('sri');
  await password.fill('bukan-kata-sandinya');
  await submit.click();
  await refusal.getByText('kata sandi salah', { exact: false }).waitFor();
  assert.equal(await outbox(), 0, 'nothing was recorded');

  // The supervisor's own password, from the keyboard: recorded.
  await password.focus();
  await page.keyboard.type(ADMIN_PASSWORD);
  await page.keyboard.press('Enter');
  const registration = await receiptNumber(page);
  assert.equal(await outbox(), 1);
  const { status } = await stationStatus(world, await sessionToken(page), registration, (b) => b.status === 'print_ready');
  assert.equal(status, 'print_ready');
  await closePage(page);

  // Central counted it: one enrollment of ani's, with an approved exception.
  await world.stopCentral();
  const report = spawnSync(ektp, ['central', 'integrity', 'report', '--dir', join(world.dir, 'central'), '--json'],
    { encoding: 'utf8' });
  assert.equal(report.status, 0, report.stderr);
  const ani = JSON.parse(report.stdout).operators.find((o) => o.operator === 'ani');
  assert.deepEqual([ani.exceptions.events, ani.exceptions.out_of, ani.unapproved_exceptions], [1, 1, 0]);
});

test('a supervisor approves a finger exception with her enrolled finger in place of the password', async () => {
  const page = await newPage(browser);
  await stationLogin(page, world, { username: 'tono' });
  await fillApplicant(page, { name: 'DIAN PERTIWI', subject: 502 });
  await page.getByLabel('Pengecualian Jempol kiri').selectOption('bandaged');
  await page.getByLabel('Foto tangan (JPEG atau PNG)').setInputFiles(join(DATA, 'face.jpg'));
  await page.getByLabel('Nama pengguna penyelia').fill('sri');
  // Another finger's file at the right index position: refused, nothing recorded.
  await page.getByLabel('Berkas sidik jari dari pemindai').setInputFiles(fvc(2, 109, 2));
  await page.getByRole('button', { name: 'Simpan perekaman' }).click();
  await page.locator('#exception-supervisor-error').getByText('tidak cocok', { exact: false }).waitFor();
  // Her right index, another impression: recorded.
  await page.getByLabel('Berkas sidik jari dari pemindai').setInputFiles(fvc(2, 108, 4));
  await page.getByRole('button', { name: 'Simpan perekaman' }).click();
  const registration = await receiptNumber(page);
  const outbox = (await world.stationApi('/api/v1/outbox', await sessionToken(page))).json.entries;
  assert.equal(outbox.some((e) => e.kind === 'enrollment' && e.reference === registration), true);
  await closePage(page);
});
