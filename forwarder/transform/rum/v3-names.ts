/**
 * The RUM v3 short names and the intake v2 names they stand for, as a tree: a v3 object is expanded by walking
 * it with its map. Our own table, written from the rumv3 model's field list.
 */
export interface NameMap {
  readonly [short: string]: readonly [long: string, children?: NameMap | 'list-of-same'] | undefined;
}

const nameVersion: NameMap = { n: ['name'], ve: ['version'] };

const userNames: NameMap = { id: ['id'], un: ['username'], em: ['email'], ud: ['domain'] };

const serviceNames: NameMap = {
  n: ['name'],
  ve: ['version'],
  en: ['environment'],
  a: ['agent', nameVersion],
  la: ['language', nameVersion],
  ru: ['runtime', nameVersion],
  fw: ['framework', nameVersion],
};

export const metadataNames: NameMap = {
  se: ['service', serviceNames],
  u: ['user', userNames],
  l: ['labels'],
  n: ['network', { c: ['connection', { t: ['type'] }] }],
};

const frameNames: NameMap = {
  ap: ['abs_path'],
  f: ['filename'],
  fn: ['function'],
  li: ['lineno'],
  co: ['colno'],
  cli: ['context_line'],
  mo: ['module'],
  poc: ['post_context'],
  prc: ['pre_context'],
  cn: ['classname'],
};

const contextNames: NameMap = {
  cu: ['custom'],
  g: ['tags'],
  se: ['service', serviceNames],
  u: ['user', userNames],
  q: ['request', { en: ['env'], he: ['headers'], hve: ['http_version'], mt: ['method'] }],
  p: ['page', { rf: ['referer'], url: ['url'] }],
  r: [
    'response',
    {
      he: ['headers'],
      dbs: ['decoded_body_size'],
      ebs: ['encoded_body_size'],
      sc: ['status_code'],
      ts: ['transfer_size'],
    },
  ],
};

export const spanNames: NameMap = {
  id: ['id'],
  n: ['name'],
  t: ['type'],
  su: ['subtype'],
  ac: ['action'],
  s: ['start'],
  d: ['duration'],
  o: ['outcome'],
  sr: ['sample_rate'],
  sy: ['sync'],
  st: ['stacktrace', frameNames],
  c: [
    'context',
    {
      g: ['tags'],
      se: ['service', { n: ['name'], a: ['agent', nameVersion] }],
      dt: [
        'destination',
        { ad: ['address'], po: ['port'], se: ['service', { n: ['name'], rc: ['resource'], t: ['type'] }] },
      ],
      h: [
        'http',
        {
          mt: ['method'],
          url: ['url'],
          sc: ['status_code'],
          r: ['response', { dbs: ['decoded_body_size'], ebs: ['encoded_body_size'], ts: ['transfer_size'] }],
        },
      ],
    },
  ],
};

export const transactionNames: NameMap = {
  id: ['id'],
  tid: ['trace_id'],
  pid: ['parent_id'],
  n: ['name'],
  t: ['type'],
  d: ['duration'],
  rt: ['result'],
  o: ['outcome'],
  sm: ['sampled'],
  sr: ['sample_rate'],
  yc: ['span_count', { sd: ['started'], dd: ['dropped'] }],
  c: ['context', contextNames],
  exp: [
    'experience',
    { cls: ['cls'], fid: ['fid'], tbt: ['tbt'], lt: ['longtask', { count: ['count'], sum: ['sum'], max: ['max'] }] },
  ],
  ses: ['session', { id: ['id'], seq: ['sequence'] }],
};

const exceptionNames: NameMap = {
  mg: ['message'],
  t: ['type'],
  mo: ['module'],
  cd: ['code'],
  hd: ['handled'],
  at: ['attributes'],
  st: ['stacktrace', frameNames],
  ca: ['cause', 'list-of-same'],
};

export const errorNames: NameMap = {
  id: ['id'],
  tid: ['trace_id'],
  pid: ['parent_id'],
  xid: ['transaction_id'],
  timestamp: ['timestamp'],
  cl: ['culprit'],
  x: ['transaction', { n: ['name'], t: ['type'], sm: ['sampled'] }],
  log: [
    'log',
    { mg: ['message'], pmg: ['param_message'], ln: ['logger_name'], lv: ['level'], st: ['stacktrace', frameNames] },
  ],
  ex: ['exception', exceptionNames],
  c: ['context', contextNames],
};

/** Transaction marks: the groups a (agent) and nt (navigation timing) and their measurement names. */
export const markGroupNames: Readonly<Record<string, string>> = { a: 'agent', nt: 'navigationTiming' };
export const markNames: Readonly<Record<string, string>> = {
  ce: 'connectEnd',
  cs: 'connectStart',
  dc: 'domComplete',
  de: 'domContentLoadedEventEnd',
  di: 'domInteractive',
  dl: 'domLoading',
  ds: 'domContentLoadedEventStart',
  ee: 'loadEventEnd',
  es: 'loadEventStart',
  fb: 'timeToFirstByte',
  fp: 'firstContentfulPaint',
  fs: 'fetchStart',
  le: 'domainLookupEnd',
  lp: 'largestContentfulPaint',
  ls: 'domainLookupStart',
  re: 'responseEnd',
  rs: 'responseStart',
  qs: 'requestStart',
};
