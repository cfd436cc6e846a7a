import { productNodeFlags } from '../../../bench/node-flags';
import { readComposeFile, readDockerfile } from '../deploy/deploy-files';

// The bench starts each subcommand with the Node flags the product does, so its memory figures are what users get.
describe('bench productNodeFlags', () => {
  const compose = readComposeFile('deploy/docker-compose.yml');
  const imageEntrypoint: unknown = JSON.parse(
    readDockerfile('deploy/Dockerfile').findLast((i) => i.keyword === 'ENTRYPOINT')?.args ?? '[]',
  );
  const between = (entrypoint: unknown): unknown[] => (Array.isArray(entrypoint) ? entrypoint.slice(1, -1) : []);

  it("gives a subcommand whose compose service has its own entrypoint that entrypoint's flags", () => {
    expect(compose.services.get('proxy')?.entrypoint.length).toBeGreaterThan(0);
    expect(productNodeFlags('proxy')).toEqual(between(compose.services.get('proxy')?.entrypoint));
  });

  it("gives the others the image's ENTRYPOINT flags", () => {
    expect(compose.services.get('forwarder')?.entrypoint).toEqual([]);
    expect(productNodeFlags('forwarder')).toEqual(between(imageEntrypoint));
    expect(productNodeFlags('setup')).toEqual(between(imageEntrypoint));
  });
});
