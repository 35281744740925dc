// The answer checker the browser tests use (openapi.mjs) refuses what
// docs/openapi.yaml does not describe: an unknown route, an unlisted status,
// a body that breaks the schema.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAnswer } from './openapi.mjs';

const json = 'application/json';

test('a documented answer that matches its schema passes', () => {
  const provinces = { children: [{ code: '35', name: 'Jawa Timur', level: 'province' }] };
  assert.equal(checkAnswer('GET', '/api/v1/regions', 200, json, JSON.stringify(provinces)), null);
  const refusal = { error: 'FAILED_PRECONDITION: ...', pesan: 'Sebagian nomor seri ...', status: 409 };
  assert.equal(checkAnswer('POST', '/api/v1/console/blanks/shipments', 409, json, JSON.stringify(refusal)), null);
});

test('a body that breaks the schema is named with the field at fault', () => {
  const problem = checkAnswer('GET', '/api/v1/regions', 200, json,
    JSON.stringify({ children: [{ code: 35, name: 'Jawa Timur', level: 'planet' }] }));
  assert.match(problem, /children\/0\/code must be string/);
  assert.match(problem, /level must be equal to one of the allowed values/);
});

test('an undocumented route, method or status is refused', () => {
  assert.match(checkAnswer('GET', '/api/v1/nothing', 200, json, '{}'), /not in docs\/openapi.yaml/);
  assert.match(checkAnswer('DELETE', '/api/v1/regions', 200, json, '{}'), /not in docs\/openapi.yaml/);
  assert.match(checkAnswer('POST', '/api/v1/console/blanks/shipments', 418, json, '{}'), /answered 418/);
});

test('a literal path is not taken for a templated one', () => {
  // /api/v1/enrollments/check is its own operation (POST), not GET /api/v1/enrollments/{reg}.
  assert.match(checkAnswer('GET', '/api/v1/enrollments/check', 404, json, '{}'), /not in docs\/openapi.yaml/);
  assert.equal(checkAnswer('POST', '/api/v1/enrollments/check', 200, json, '{}'), null);
});
