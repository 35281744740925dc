// The message catalogue: both languages have the same keys, and every key the
// console's code names literally is in it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { messages } from '../src/common/messages.js';

const SRC = join(import.meta.dirname, '../src');

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.js') ? [join(dir, entry.name)] : []);
}

test('Bahasa Indonesia and English have the same keys', () => {
  assert.deepEqual(Object.keys(messages.en).sort(), Object.keys(messages.id).sort());
});

test('every key the code names is in the catalogue', () => {
  const namespaces = new Set(Object.keys(messages.id).map((key) => key.split('.')[0]));
  const missing = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    // t('key'), and keys handed to field()/photoCapture() as labels
    for (const match of text.matchAll(/(?:\bt\(|, )'([a-z]+\.[A-Za-z0-9_.]+)'/g)) {
      if (namespaces.has(match[1].split('.')[0]) && !(match[1] in messages.id)) missing.push(`${file}: ${match[1]}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('parameters are the same in both languages', () => {
  const params = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const key of Object.keys(messages.id)) {
    assert.deepEqual(params(messages.en[key]), params(messages.id[key]), key);
  }
});
