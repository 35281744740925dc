// The servers' answers checked against docs/openapi.yaml, for the browser
// tests: every API request a page makes must be a documented operation, its
// status one the operation documents, and a JSON body must match the
// documented schema (OpenAPI 3.0 schemas, validated by Ajv).
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const SPEC_ID = 'openapi.json';
const spec = parse(readFileSync(join(import.meta.dirname, '../../docs/openapi.yaml'), 'utf8'));
// Formats (byte, date-time) and OpenAPI's `example` are descriptions here, not rules.
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(spec, SPEC_ID);

// Literal paths first, so /api/v1/enrollments/check is not taken for /api/v1/enrollments/{reg}.
const routes = Object.keys(spec.paths)
  .map((template) => ({ template, pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    params: (template.match(/\{/g) ?? []).length }))
  .sort((a, b) => a.params - b.params);

const pointer = (...parts) => parts.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
const validators = new Map();

function resolveResponse(response) {
  const ref = response?.$ref;
  return ref ? spec.components.responses[ref.split('/').pop()] : response;
}

// The problem with one answer, or null when it conforms.
export function checkAnswer(method, pathname, status, contentType, body) {
  const route = routes.find((r) => r.pattern.test(pathname));
  const operation = route && spec.paths[route.template][method.toLowerCase()];
  if (!operation) return `${method} ${pathname}: not in docs/openapi.yaml`;
  const documented = operation.responses[String(status)] ?? operation.responses.default;
  if (!documented) return `${method} ${route.template} answered ${status}, which docs/openapi.yaml does not list`;
  const schema = resolveResponse(documented)?.content?.['application/json']?.schema;
  if (!schema || !contentType.startsWith('application/json')) return null;
  const key = `${route.template} ${method} ${status in operation.responses ? status : 'default'}`;
  if (!validators.has(key)) {
    const at = operation.responses[String(status)] ? String(status) : 'default';
    const base = documented.$ref
      ? `#/components/responses/${documented.$ref.split('/').pop()}`
      : `#/${pointer('paths', route.template, method.toLowerCase(), 'responses', at)}`;
    validators.set(key, ajv.getSchema(`${SPEC_ID}${base}/content/application~1json/schema`));
  }
  let json;
  try { json = JSON.parse(body); } catch { return `${method} ${route.template} ${status}: the body is not JSON`; }
  const validate = validators.get(key);
  if (validate(json)) return null;
  return `${method} ${route.template} ${status}: ${ajv.errorsText(validate.errors)}`;
}

// Records every API answer `page` receives from `origin`; conformance(page)
// gives the problems once the page is done.
export function watchAnswers(page) {
  page.answerChecks = [];
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (!url.pathname.startsWith('/api/')) return;
    const method = response.request().method();
    page.answerChecks.push(response.text().then(
      (body) => checkAnswer(method, url.pathname, response.status(), response.headers()['content-type'] ?? '', body),
      () => null));  // the page went away before the body was read
  });
}

export async function conformance(page) {
  return (await Promise.all(page.answerChecks ?? [])).filter(Boolean);
}
