'use strict';
// Demo app of deploy/sidecar. The agent must start before anything it instruments is required. Its server URL and
// CA come from ELASTIC_APM_* variables; the token comes from a Docker secret, because the agent has no *_FILE
// setting of its own. While tokens are rotated the secret lists several: the first is the current one.
const fs = require('node:fs');

const tokenFile = process.env.APM_TOKEN_FILE || '/run/secrets/apm_secret_token';
const secretToken = fs.readFileSync(tokenFile, 'utf8').split(',')[0].trim();
require('elastic-apm-node').start({ secretToken });

const http = require('node:http');

http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello from the apm-sidecar example; this request was traced\n');
  })
  .listen(8080, '0.0.0.0');
