import { documentId } from '../../../forwarder/document-id';
import { BulkResponseError, missingItem, parseBulkResponse } from '../../../forwarder/outcomes';
import { prepareDocument } from '../../../forwarder/output/sink';

describe('bulk outcomes', () => {
  it('classifies item statuses as APM Server and the issue say', () => {
    const statuses = [201, 200, 409, 429, 500, 503, 400, 404];
    const body = { items: statuses.map((status) => ({ create: { status } })) };
    expect(parseBulkResponse(body, statuses.map(String)).map((item) => item.kind)).toEqual([
      'indexed',
      'indexed',
      'duplicate',
      'retry',
      'retry',
      'retry',
      'rejected',
      'rejected',
    ]);
  });

  it('parses a bulk response item by item, with error type and reason', () => {
    const body = {
      errors: true,
      items: [
        { create: { status: 201 } },
        { create: { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'exists' } } },
        {
          create: {
            status: 400,
            error: {
              type: 'document_parsing_exception',
              reason: 'failed to parse',
              caused_by: { reason: 'not a number' },
            },
          },
        },
        { create: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'busy' } } },
      ],
    };
    expect(parseBulkResponse(body, ['a', 'b', 'c', 'd'])).toEqual([
      { kind: 'indexed' },
      { kind: 'duplicate' },
      {
        kind: 'rejected',
        status: 400,
        errorType: 'document_parsing_exception',
        reason: 'failed to parse: not a number',
      },
      { kind: 'retry', status: 429, errorType: 'es_rejected_execution_exception', reason: 'busy' },
    ]);
  });

  it('refuses a response it cannot match to what was sent', () => {
    expect(() => parseBulkResponse({ items: [{ create: { status: 201 } }] }, ['a', 'b'])).toThrow(BulkResponseError);
    expect(() => parseBulkResponse({ took: 1 }, [])).toThrow(BulkResponseError);
    expect(() => parseBulkResponse({ items: [{ create: { status: '201' } }] }, ['a'])).toThrow(
      new BulkResponseError('items.0.create.status must be number'),
    );
    expect(() => parseBulkResponse({ items: [{ delete: { status: 200 } }] }, ['a'])).toThrow(
      new BulkResponseError('items.0 has neither create nor index'),
    );
  });

  it('matches items by _id, so only the items an answer left out are sent again', () => {
    const body = { items: [{ create: { _id: 'c', status: 201 } }, { create: { _id: 'a', status: 409 } }] };
    expect(parseBulkResponse(body, ['a', 'b', 'c'])).toEqual([{ kind: 'duplicate' }, missingItem, { kind: 'indexed' }]);
    const twice = { items: [{ create: { _id: 'a', status: 201 } }, { create: { _id: 'a', status: 409 } }] };
    expect(parseBulkResponse(twice, ['a', 'a', 'b'])).toEqual([
      { kind: 'indexed' },
      { kind: 'duplicate' },
      missingItem,
    ]);
  });

  it('serializes a create action with the deterministic _id once', () => {
    const doc = prepareDocument(documentId('req-1', 7), { dataStream: 'traces-apm-default', source: { a: 1 } });
    expect(doc.lines).toBe('{"create":{"_index":"traces-apm-default","_id":"req-1.7"}}\n{"a":1}\n');
    expect(doc.bytes).toBe(Buffer.byteLength(doc.lines));
  });
});
