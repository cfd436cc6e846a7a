import { transformSync } from 'esbuild';

import {
  decodeSourceMapContent,
  encodeSourceMapContent,
  sourceMapDocumentId,
} from '../../../../forwarder/sourcemap/decode';
import { SourceMapStore } from '../../../../forwarder/sourcemap/source-map-store';
import type { JsonObject } from '../../../../forwarder/transform/json';
import { applyRumFrameRules, type FrameRules } from '../../../../forwarder/transform/rum/frame-rules';
import { LogSink } from '../../../support/log-sink';

const source =
  'function checkout(cart){\n  if(cart.items.length===0){\n    throw new Error("cart is empty");\n  }\n  return cart;\n}\nwindow.checkout=checkout;\n';
const bundle = transformSync(source, {
  minify: true,
  sourcemap: 'external',
  sourcefile: 'webpack:///src/cart.js',
  loader: 'js',
  sourcesContent: true,
});
const bundleUrl = 'https://shop.example/static/app.min.js';
const rules: FrameRules = { libraryPattern: /node_modules|bower_components|~/, excludeFromGrouping: /^webpack/ };

function errorDoc(): JsonObject {
  const column = bundle.code.indexOf('throw') + 1;
  return {
    service: { name: 'shop-frontend', version: '1.4.2' },
    error: {
      culprit: bundleUrl,
      exception: [
        {
          message: 'cart is empty',
          type: 'Error',
          stacktrace: [
            {
              abs_path: bundleUrl,
              filename: 'static/app.min.js',
              function: 'checkout',
              library_frame: false,
              exclude_from_grouping: false,
              line: { number: 1, column },
            },
            {
              abs_path: 'https://cdn.example/node_modules/lib.js',
              filename: 'node_modules/lib.js',
              function: 'run',
              exclude_from_grouping: false,
              line: { number: 3, column: 9 },
            },
          ],
        },
      ],
      grouping_key: 'before',
    },
  };
}

describe('RUM source mapping and frame rules', () => {
  const map = decodeSourceMapContent(encodeSourceMapContent(JSON.parse(bundle.map) as object));

  it('maps a minified frame to its source, keeps the original, and recomputes culprit and grouping', () => {
    const doc = errorDoc();
    applyRumFrameRules(doc, rules, (path) => (path === bundleUrl ? map : null));
    const error = doc.error as {
      culprit: string;
      grouping_key: string;
      exception: Array<{ stacktrace: JsonObject[] }>;
    };
    const [mapped, library] = error.exception[0]?.stacktrace ?? [];
    expect(mapped).toMatchObject({
      filename: 'webpack:///src/cart.js',
      abs_path: bundleUrl,
      function: '<anonymous>',
      line: { number: 3, context: '    throw new Error("cart is empty");' },
      context: {
        pre: ['function checkout(cart){', '  if(cart.items.length===0){'],
        post: ['  }', '  return cart;', '}', 'window.checkout=checkout;', ''],
      },
      original: {
        abs_path: bundleUrl,
        filename: 'static/app.min.js',
        function: 'checkout',
        lineno: 1,
        colno: bundle.code.indexOf('throw') + 1,
        library_frame: false,
      },
      sourcemap: { updated: true },
      library_frame: false,
      exclude_from_grouping: true,
    });
    expect(library).toMatchObject({
      library_frame: true,
      exclude_from_grouping: false,
      original: { library_frame: false },
    });
    expect(library?.sourcemap).toBeUndefined();
    expect(error.culprit).toBe('webpack:///src/cart.js in <anonymous>');
    expect(error.grouping_key).not.toBe('before');
    // the excluded (mapped) frame does not count: only the library frame's name and function do
    const onlyLibrary = errorDoc();
    applyRumFrameRules(onlyLibrary, rules, () => null);
    expect((onlyLibrary.error as { grouping_key: string }).grouping_key).not.toBe(error.grouping_key);
  });

  it('leaves frames unmapped without a map, still applying the library rule', () => {
    const doc = errorDoc();
    applyRumFrameRules(doc, rules, () => null);
    const frames = (doc.error as { exception: Array<{ stacktrace: JsonObject[] }> }).exception[0]?.stacktrace ?? [];
    expect(frames[0]).toMatchObject({ filename: 'static/app.min.js', line: { number: 1 }, library_frame: false });
    expect(frames[0]?.sourcemap).toBeUndefined();
    expect((doc.error as { culprit: string }).culprit).toBe(bundleUrl);
  });
});

describe('SourceMapStore', () => {
  it("fetches by Kibana's document id once, caches hits and misses until they expire, and bounds its entries", async () => {
    let now = 0;
    const fetched: string[] = [];
    const content = encodeSourceMapContent(JSON.parse(bundle.map) as object);
    const store = new SourceMapStore(
      (id) => {
        fetched.push(id);
        return Promise.resolve(id.endsWith('app.min.js') ? content : null);
      },
      { ttlMs: 1000, maxEntries: 2, now: () => now },
      new LogSink().logger('store'),
    );
    const [a, b] = await Promise.all([store.get('shop', '1.0', bundleUrl), store.get('shop', '1.0', bundleUrl)]);
    expect(a).not.toBeNull();
    expect(b).toBe(a);
    expect(await store.get('shop', '1.0', 'https://shop.example/other.js')).toBeNull();
    await store.get('shop', '1.0', 'https://shop.example/other.js');
    expect(fetched).toEqual([sourceMapDocumentId('shop', '1.0', bundleUrl), 'shop-1.0-https://shop.example/other.js']);
    now = 1001;
    await store.get('shop', '1.0', bundleUrl);
    expect(fetched).toHaveLength(3);
    await store.get('shop', '2.0', bundleUrl);
    await store.get('shop', '3.0', bundleUrl);
    expect(store.size).toBe(2);
  });

  it('counts a failed fetch as no map and says so once per expiry', async () => {
    const sink = new LogSink();
    const store = new SourceMapStore(
      async () => Promise.reject(new Error('security_exception: no read on .apm-source-map')),
      { ttlMs: 60_000, maxEntries: 10 },
      sink.logger('store'),
    );
    expect(await store.get('shop', '1.0', bundleUrl)).toBeNull();
    expect(await store.get('shop', '1.0', bundleUrl)).toBeNull();
    expect(sink.lines.filter((e) => e.msg?.includes('source map could not be read') === true)).toHaveLength(1);
  });
});
