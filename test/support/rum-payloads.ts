/**
 * Hand-written RUM intake bodies (v2 and the minified v3) shaped as @elastic/apm-rum 5.x sends them; the browser
 * test sends the real agent's. Ids are fixed so documents can be compared.
 */

export const rumTraceId = '0af7651916cd43dd8448eb211c80319c';

export function v3Metadata(overrides: { agent?: string; service?: string } = {}): Record<string, unknown> {
  return {
    m: {
      se: {
        n: overrides.service ?? 'shop-frontend',
        ve: '1.4.2',
        en: 'production',
        a: { n: overrides.agent ?? 'rum-js', ve: '5.17.5' },
        la: { n: 'javascript' },
      },
      l: { team: 'web' },
      n: { c: { t: '4g' } },
    },
  };
}

export function v3Transaction(id = 'a1b2c3d4e5f60718'): Record<string, unknown> {
  return {
    x: {
      id,
      tid: rumTraceId,
      n: '/checkout',
      t: 'page-load',
      d: 812.5,
      sm: true,
      sr: 1,
      o: 'success',
      yc: { sd: 2 },
      k: { a: { fb: 120, di: 400, dc: 700 }, nt: { fs: 0, rs: 110, re: 130 } },
      c: {
        p: { url: 'https://shop.example/checkout', rf: 'https://shop.example/' },
        r: { ts: 3000, ebs: 2800, dbs: 9000 },
      },
      exp: { cls: 0.01, tbt: 20, lt: { count: 1, sum: 60, max: 60 } },
      y: [
        {
          id: 'b1b2c3d4e5f60718',
          n: 'GET /api/cart',
          t: 'external',
          su: 'http',
          ac: 'GET',
          s: 150.2,
          d: 80.1,
          o: 'success',
          c: {
            h: { url: 'https://shop.example/api/cart', sc: 200, mt: 'GET' },
            dt: {
              ad: 'shop.example',
              po: 443,
              se: { rc: 'shop.example:443', n: 'https://shop.example', t: 'external' },
            },
          },
        },
        { id: 'c1b2c3d4e5f60718', pi: 0, n: 'parse cart', t: 'app', s: 232, d: 5 },
      ],
      me: [{ sa: { ysc: { v: 1 }, yss: { v: 80.1 } }, y: { t: 'external', su: 'http' } }],
    },
  };
}

export function v3Error(): Record<string, unknown> {
  return {
    e: {
      id: 'e1b2c3d4e5f60718e1b2c3d4e5f60718',
      tid: rumTraceId,
      pid: 'a1b2c3d4e5f60718',
      xid: 'a1b2c3d4e5f60718',
      x: { t: 'page-load', sm: true },
      cl: 'https://shop.example/static/app.min.js',
      ex: {
        mg: 'cart is empty',
        t: 'Error',
        st: [
          {
            f: 'https://shop.example/static/app.min.js',
            ap: 'https://shop.example/static/app.min.js',
            fn: 'n',
            li: 1,
            co: 120,
          },
        ],
      },
      c: { p: { url: 'https://shop.example/checkout' } },
    },
  };
}

export function v2Metadata(overrides: { agent?: string; service?: string } = {}): Record<string, unknown> {
  return {
    metadata: {
      service: {
        name: overrides.service ?? 'shop-frontend',
        version: '1.4.2',
        agent: { name: overrides.agent ?? 'rum-js', version: '5.17.5' },
        language: { name: 'javascript' },
      },
    },
  };
}

export function v2Transaction(id = 'a1b2c3d4e5f60718'): Record<string, unknown> {
  return {
    transaction: {
      id,
      trace_id: rumTraceId,
      name: '/checkout',
      type: 'page-load',
      duration: 812.5,
      span_count: { started: 0 },
      sampled: true,
    },
  };
}

export function ndjson(lines: ReadonlyArray<Record<string, unknown>>): string {
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
}
