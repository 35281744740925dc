// A real ektp world for the browser tests: central and one station, each its
// own `ektp` process on loopback with port 0, in a temporary folder, set up
// with the same commands an admin types (docs/operations.md).
import { spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const ektp = process.env.EKTP_BIN;
if (!ektp) throw new Error('set EKTP_BIN to the ektp binary (CTest does)');
export const ADMIN_PASSWORD = 'rahasia-uji-123';
// Where the tests save screenshots of the main screens.
export const SHOTS = process.env.EKTP_SCREENSHOTS ?? join(process.env.TMPDIR ?? '/tmp', 'ektp-screenshots');
mkdirSync(SHOTS, { recursive: true });

function run(args, input) {
  const result = spawnSync(ektp, args, { input, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ektp ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  return result.stdout;
}

// Starts `ektp ARGS` and resolves with the process and the URL it logs once
// listening ({"event":"http.server_started", "port": N}).
function serve(args, scheme) {
  return new Promise((resolve, reject) => {
    const child = spawn(ektp, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`ektp ${args[0]} did not start:\n${output}`)), 30000);
    const onData = (chunk) => {
      output += chunk;
      const match = output.match(/"event":"http\.server_started"[^\n]*"port":(\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: `${scheme}://127.0.0.1:${match[1]}`, log: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`ektp ${args[0]} exited with ${code}:\n${output}`)));
  });
}

function stop(server) {
  return new Promise((resolve) => {
    if (!server || server.child.exitCode !== null) return resolve();
    server.child.removeAllListeners('exit');
    server.child.on('exit', () => resolve());
    server.child.kill('SIGTERM');
  });
}

export class World {
  // `stationFlags`: more flags for `station serve` (e.g. --review-required).
  static async start({ stationFlags = [] } = {}) {
    const world = new World();
    world.dir = mkdtempSync(join(tmpdir(), 'ektp-browser-'));
    const central = join(world.dir, 'central');
    run(['central', 'init', '--dir', central]);
    world.centralArgs = ['central', 'serve', '--dir', central, '--port', '0'];
    world.central = await serve(world.centralArgs, 'https');
    const token = run(['central', 'token', 'create', '--dir', central, '--kecamatan', '35.21.01',
      '--capabilities', 'enroll,print,pickup,suket']).trim().split('\n').pop();
    const station = join(world.dir, 'station');
    run(['station', 'init', '--dir', station, '--central', world.central.url, '--token', token,
      '--admin-user', 'admin'], `${ADMIN_PASSWORD}\n${ADMIN_PASSWORD}\n`);
    const id = run(['central', 'station', 'list', '--dir', central]).match(/ST-\d+-\d+/)[0];
    run(['central', 'station', 'approve', id, '--dir', central]);
    world.stationId = id;
    world.station = await serve(['station', 'serve', '--dir', station, '--port', '0', '--simulated-scanner', '7',
      '--sync-idle-ms', '200', '--sync-backoff-ms', '200', '--sync-max-backoff-ms', '1000', ...stationFlags], 'http');
    return world;
  }

  // The station's own view of an enrollment, through its API.
  async stationApi(path, token) {
    const response = await fetch(this.station.url + path, { headers: { Authorization: `Bearer ${token}` } });
    return { status: response.status, json: await response.json() };
  }

  // A console account at central; its password is ADMIN_PASSWORD.
  addCentralAccount(username, role) {
    run(['central', 'account', 'add', '--dir', join(this.dir, 'central'), '--username', username,
      '--name', username.toUpperCase(), '--role', role], `${ADMIN_PASSWORD}\n`);
  }

  // Registers another station (not started) in folder `name` with a token
  // from central's console; returns its id.
  initStation(name, token, fingerprint) {
    const out = run(['station', 'init', '--dir', join(this.dir, name), '--central', this.central.url, '--token', token,
      '--fingerprint', fingerprint, '--admin-user', 'admin'], `${ADMIN_PASSWORD}\n${ADMIN_PASSWORD}\n`);
    return out.match(/registered as (ST-\d+-\d+)/)[1];
  }

  // A station account; its password is ADMIN_PASSWORD.
  addStationAccount(username, role) {
    run(['station', 'operator', 'add', '--dir', join(this.dir, 'station'), '--username', username,
      '--name', username.toUpperCase(), '--role', role], `${ADMIN_PASSWORD}\n`);
  }

  // Enrolls a station account's own fingerprints: `fingers` maps an ISO
  // position to a template file (`ektp station operator fingerprints`).
  enrollOperatorFingers(username, fingers) {
    run(['station', 'operator', 'fingerprints', username, '--dir', join(this.dir, 'station'),
      ...Object.entries(fingers).flatMap(([position, file]) => ['--finger', `${position}=${file}`])]);
  }

  // Central's warehouse takes in blanks FIRST..LAST, ships them to the
  // station's regency and hands them over to the station, as `ektp demo` does.
  handOverBlanks(first, last) {
    const central = join(this.dir, 'central');
    const range = ['--first', first, '--last', last, '--by', 'gudang-uji'];
    run(['central', 'blanks', 'stock-in', '--dir', central, ...range]);
    run(['central', 'blanks', 'ship', '--dir', central, '--regency', '35.21', ...range]);
    run(['central', 'blanks', 'hand-over', '--dir', central, '--station', this.stationId, ...range]);
  }

  // SHA-256 of central's public key (SPKI), base64: what a browser pins to
  // trust central's self-signed certificate and nothing else.
  centralSpki() {
    const pem = readFileSync(join(this.dir, 'central', 'tls-cert.pem'));
    const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(spki).digest('base64');
  }

  async stopCentral() { await stop(this.central); }
  async restartCentral() { this.central = await serve([...this.centralArgs.slice(0, -1), new URL(this.central.url).port], 'https'); }

  async close() {
    await stop(this.station);
    await stop(this.central);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// Debian's Chromium, headless, with nothing that reaches past loopback. With
// `world`, it trusts that world's central certificate (pinned by its key), as
// a central staff member's browser does once the admin installs it.
export async function launchBrowser(world) {
  const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--lang=id-ID'];
  if (world) args.push(`--ignore-certificate-errors-spki-list=${world.centralSpki()}`);
  return chromium.launch({ executablePath: process.env.EKTP_CHROMIUM ?? '/usr/bin/chromium', args });
}
