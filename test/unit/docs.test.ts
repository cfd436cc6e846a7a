import fs from 'node:fs';
import path from 'node:path';

import { renderConfigurationDoc, renderErrorsDoc } from '../../scripts/render-docs';

const docs = path.join(__dirname, '..', '..', 'docs');

// fastify/undici style: the catalogue, the schema and their docs never drift apart.
describe('generated docs', () => {
  it('docs/configuration.md matches config/schema/ (run `npm run docs`)', () => {
    expect(fs.readFileSync(path.join(docs, 'configuration.md'), 'utf8')).toBe(renderConfigurationDoc());
  });

  it('docs/errors.md matches core/errors.ts (run `npm run docs`)', () => {
    expect(fs.readFileSync(path.join(docs, 'errors.md'), 'utf8')).toBe(renderErrorsDoc());
  });
});
