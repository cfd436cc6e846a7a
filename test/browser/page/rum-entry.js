// The page's RUM agent, bundled by the test with esbuild: the real @elastic/apm-rum, configured from the page.
import { init } from '@elastic/apm-rum';

const settings = window.__rumSettings;
const apm = init({
  serviceName: settings.serviceName,
  serviceVersion: settings.serviceVersion,
  serverUrl: settings.serverUrl,
  apiVersion: settings.apiVersion,
  flushInterval: 200,
  pageLoadTransactionName: '/checkout',
  environment: 'browser-test',
});
window.__apm = apm;
