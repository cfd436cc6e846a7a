import fs from 'node:fs';
import path from 'node:path';

import { renderConfigurationDoc, renderErrorsDoc } from './render-docs';
import { descriptorFile, renderOtlpDescriptor } from './render-otlp-descriptor';

const docs = path.join(__dirname, '..', 'docs');
fs.writeFileSync(path.join(docs, 'configuration.md'), renderConfigurationDoc());
fs.writeFileSync(path.join(docs, 'errors.md'), renderErrorsDoc());
fs.writeFileSync(descriptorFile, renderOtlpDescriptor());
process.stdout.write('wrote docs/configuration.md, docs/errors.md and queue/otlp/descriptor.ts\n');
