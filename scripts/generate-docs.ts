import fs from 'node:fs';
import path from 'node:path';
import { renderConfigurationDoc, renderErrorsDoc } from './render-docs';

const docs = path.join(__dirname, '..', 'docs');
fs.writeFileSync(path.join(docs, 'configuration.md'), renderConfigurationDoc());
fs.writeFileSync(path.join(docs, 'errors.md'), renderErrorsDoc());
process.stdout.write('wrote docs/configuration.md and docs/errors.md\n');
