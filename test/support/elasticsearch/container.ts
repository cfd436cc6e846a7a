import fs from 'node:fs';

import { GenericContainer, Wait } from 'testcontainers';

import { testPki } from '../certs';
import { type EsTarget, makeTarget } from '../es-target';

const image = process.env.APM_SIDECAR_TEST_ES_IMAGE ?? 'docker.elastic.co/elasticsearch/elasticsearch:8.19.21';

export function containerRunnable(): boolean {
  return fs.existsSync('/var/run/docker.sock') || (process.env.DOCKER_HOST ?? '') !== '';
}

/**
 * A full Elasticsearch image (ILM, data streams, `GET /`) with security and HTTP TLS from the test CA.
 * Written for machines with Docker; none is available where this harness was built, so it is untested there.
 */
export async function startContainerTarget(): Promise<EsTarget> {
  const pki = testPki();
  const password = 'elastic-test-password';
  const container = await new GenericContainer(image)
    .withEnvironment({
      'discovery.type': 'single-node',
      ELASTIC_PASSWORD: password,
      ES_JAVA_OPTS: '-Xms512m -Xmx512m',
      'xpack.security.enabled': 'true',
      'xpack.security.http.ssl.enabled': 'true',
      'xpack.security.http.ssl.certificate': 'certs/node.crt',
      'xpack.security.http.ssl.key': 'certs/node.key',
      'xpack.security.http.ssl.certificate_authorities': 'certs/ca.crt',
      'xpack.license.self_generated.type': 'basic',
    })
    .withCopyFilesToContainer([
      { source: pki.serverCertFile, target: '/usr/share/elasticsearch/config/certs/node.crt', mode: 0o644 },
      { source: pki.serverKeyFile, target: '/usr/share/elasticsearch/config/certs/node.key', mode: 0o644 },
      { source: pki.caFile, target: '/usr/share/elasticsearch/config/certs/ca.crt', mode: 0o644 },
    ])
    .withExposedPorts(9200)
    .withWaitStrategy(Wait.forLogMessage(/"started"|started \{/).withStartupTimeout(240_000))
    .start();
  return makeTarget({
    kind: 'real',
    description: `testcontainers ${image}`,
    url: `https://${container.getHost()}:${container.getMappedPort(9200)}`,
    caFile: pki.caFile,
    admin: { username: 'elastic', password },
    standin: undefined,
    lacks: new Set(),
    close: async () => {
      await container.stop();
    },
  });
}
