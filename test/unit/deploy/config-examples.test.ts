import fs from 'node:fs';
import path from 'node:path';

import { loadConfig } from '../../../config/load';
import { repoRoot } from './deploy-files';

const examplesDir = path.join(repoRoot, 'config', 'examples');
const examples = fs.readdirSync(examplesDir).filter((name) => /\.(ya?ml|json)$/.test(name));

describe('config/examples', () => {
  it('has at least the commented apm-sidecar.yml', () => {
    expect(examples).toContain('apm-sidecar.yml');
  });

  // An empty environment: the file alone must be a complete, valid configuration.
  it.each(examples)('%s loads with loadConfig and strict validation', (name) => {
    const { config } = loadConfig({ file: path.join(examplesDir, name), env: {} });
    expect(config.server.host).toMatch(/:\d+$/);
  });

  it('apm-sidecar.yml holds no secret: tokens and keys come from *_FILE variables', () => {
    const { config } = loadConfig({ file: path.join(examplesDir, 'apm-sidecar.yml'), env: {} });
    expect(config.server.auth.secret_tokens).toEqual([]);
    expect(config.output.elasticsearch.api_key).toBeNull();
    expect(config.output.elasticsearch.password).toBeNull();
    expect(config.queue.redis.url).not.toMatch(/:[^/@]+@/);
  });
});
