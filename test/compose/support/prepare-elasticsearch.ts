// Prints the home of the prepared integ-test-zip distribution (fetched with Maven and completed once, as the
// real-Elasticsearch suites do), for test/compose/support/build-images.sh to copy into the stand-in image.
import { prepareDistribution } from '../../support/elasticsearch/distribution';

prepareDistribution().then(
  (home) => process.stdout.write(`${home}\n`),
  (err: unknown) => {
    process.stderr.write(`prepare-elasticsearch: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
