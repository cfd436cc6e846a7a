import {
  arr,
  bool,
  enumOutcome,
  freeObject,
  headers,
  int,
  labels,
  num,
  obj,
  patterns,
  root,
  type SchemaNode,
  str,
  stringOrInt,
  text,
  timestamp,
} from './builders';

/**
 * RUM intake v3 (the minified format of /intake/v3/rum/events): `{"m"}` metadata, then `{"x"}` transactions
 * (spans in `y`, breakdown metricsets in `me`) and `{"e"}` errors. Field names and rules as the rumv3 model of
 * APM Server's decoder states them; our own schema.
 */

const nameVersion = (): SchemaNode => obj({ n: str(), ve: str() });
const user = (): SchemaNode => obj({ ud: str(), id: stringOrInt(), em: str(), un: str() });

const metadataService = (): SchemaNode =>
  obj(
    {
      a: obj({ n: str({ minLength: 1 }), ve: str() }, { required: ['n', 've'] }),
      en: str(),
      fw: nameVersion(),
      la: obj({ n: str(), ve: str() }, { required: ['n'] }),
      n: str({ minLength: 1, pattern: patterns.patternAlphaNumericExt }),
      ru: obj({ n: str(), ve: str() }, { required: ['n', 've'] }),
      ve: str(),
    },
    { required: ['a', 'n'] },
  );

export const rumv3MetadataSchema: SchemaNode = root(
  'm',
  obj({ l: labels(), se: metadataService(), u: user(), n: obj({ c: obj({ t: str() }) }) }, { required: ['se'] }),
);

const stacktrace = (): SchemaNode =>
  arr(
    obj(
      {
        ap: text(),
        cn: text(),
        cli: text(),
        f: text(),
        fn: text(),
        mo: text(),
        poc: arr({ type: 'string' }),
        prc: arr({ type: 'string' }),
        co: int(),
        li: int(),
      },
      { required: ['f'] },
    ),
    'stacktrace',
  );

const contextService = (): SchemaNode =>
  obj({
    a: nameVersion(),
    en: str(),
    fw: nameVersion(),
    la: nameVersion(),
    n: str({ pattern: patterns.patternAlphaNumericExtOrEmpty }),
    ru: nameVersion(),
    ve: str(),
  });

const context = (): SchemaNode =>
  obj({
    cu: freeObject(),
    g: labels(),
    se: contextService(),
    u: user(),
    q: obj({ en: freeObject(), he: headers(), hve: str(), mt: str() }, { required: ['mt'] }),
    p: obj({ rf: text(), url: text() }),
    r: obj({ he: headers(), dbs: int(), ebs: int(), sc: int(), ts: int() }),
  });

const outcome = (): SchemaNode => ({ ...str(), enum: enumOutcome });

const span = (): SchemaNode =>
  obj(
    {
      n: str(),
      st: stacktrace(),
      t: str(),
      su: str(),
      ac: str(),
      id: str(),
      o: outcome(),
      c: obj({
        g: labels(),
        se: obj({ a: nameVersion(), n: str({ pattern: patterns.patternAlphaNumericExtOrEmpty }) }),
        dt: obj({ se: obj({ n: str(), rc: str(), t: str() }, { required: ['rc'] }), ad: str(), po: int() }),
        h: obj({ mt: str(), url: text(), r: obj({ dbs: int(), ebs: int(), ts: int() }), sc: int() }),
      }),
      pi: int(),
      sr: num(),
      s: num(),
      d: num({ minimum: 0 }),
      sy: bool(),
    },
    { required: ['n', 't', 'id', 's', 'd'] },
  );

const sample = (): SchemaNode => obj({ v: num() }, { required: ['v'] });

const metricset = (): SchemaNode =>
  obj({ y: obj({ su: str(), t: str() }), sa: obj({ ysc: sample(), yss: sample() }) }, { required: ['sa'] });

/** k: {<group>: {<mark>: number}}; a/nt and the mark names are expanded by the forwarder. */
const marks = (): SchemaNode => ({
  type: ['object', 'null'],
  additionalProperties: { type: ['object', 'null'], additionalProperties: { type: ['number', 'null'] } },
});

export const rumv3TransactionSchema: SchemaNode = root(
  'x',
  obj(
    {
      k: marks(),
      tid: str(),
      t: str(),
      y: arr(span(), 'spans'),
      me: arr(metricset(), 'metricsets'),
      rt: str(),
      id: str(),
      n: str(),
      o: outcome(),
      pid: str(),
      ses: obj({ id: str(), seq: int({ minimum: 1 }) }, { required: ['id'] }),
      c: context(),
      exp: obj({
        cls: num({ minimum: 0 }),
        fid: num({ minimum: 0 }),
        tbt: num({ minimum: 0 }),
        lt: obj(
          { count: int({ minimum: 0 }), max: num({ minimum: 0 }), sum: num({ minimum: 0 }) },
          { required: ['count', 'max', 'sum'] },
        ),
      }),
      yc: obj({ dd: int(), sd: int() }, { required: ['sd'] }),
      sr: num(),
      d: num({ minimum: 0 }),
      sm: bool(),
    },
    { required: ['tid', 't', 'id', 'yc', 'd'] },
  ),
);

const exception = (): SchemaNode =>
  obj(
    {
      at: freeObject(),
      cd: stringOrInt(),
      // ca: causes, the same shape; checked one level deep, as deeper causes are rare in browsers
      ca: arr(
        obj(
          { mg: text(), t: str(), mo: str(), st: stacktrace(), hd: bool(), cd: stringOrInt() },
          { anyOf: ['mg', 't'] },
        ),
      ),
      mg: text(),
      mo: str(),
      st: stacktrace(),
      t: str(),
      hd: bool(),
    },
    { anyOf: ['mg', 't'] },
  );

export const rumv3ErrorSchema: SchemaNode = root(
  'e',
  obj(
    {
      timestamp: timestamp(),
      log: obj({ lv: str(), ln: str(), mg: text(), pmg: str(), st: stacktrace() }, { required: ['mg'] }),
      cl: str(),
      id: str(),
      pid: str(),
      tid: str(),
      xid: str(),
      ex: exception(),
      x: obj({ n: str(), t: str(), sm: bool() }),
      c: context(),
    },
    { required: ['id'], anyOf: ['ex', 'log'], requiredIfAny: { pid: ['xid', 'tid'], tid: ['xid', 'pid'] } },
  ),
);
