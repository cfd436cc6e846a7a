import { fromElasticsearch, outcomeOfStatus } from '../../../elasticsearch/outcome';

describe('one Elasticsearch outcome rule', () => {
  it('names every status in one vocabulary', () => {
    const statuses = [200, 201, 409, 401, 403, 413, 429, 503, 500, 502, 408, 0, 400, 404];
    expect(Object.fromEntries(statuses.map((s) => [s, outcomeOfStatus(s)]))).toEqual({
      200: 'indexed',
      201: 'indexed',
      409: 'duplicate',
      401: 'auth',
      403: 'forbidden',
      413: 'too_large',
      429: 'overloaded',
      503: 'overloaded',
      500: 'retry',
      502: 'retry',
      408: 'retry',
      0: 'retry',
      400: 'rejected',
      404: 'rejected',
    });
  });

  it('treats an answer without x-elastic-product as a proxy page, except credentials and body limits', () => {
    expect([404, 502, 429, 401, 403, 413].map((s) => outcomeOfStatus(s, false))).toEqual([
      'not_elasticsearch',
      'not_elasticsearch',
      'not_elasticsearch',
      'auth',
      'forbidden',
      'too_large',
    ]);
    expect(fromElasticsearch({ 'x-elastic-product': 'Elasticsearch' })).toBe(true);
    expect(fromElasticsearch({ 'x-elastic-product': ['Elasticsearch'] })).toBe(true);
    expect(fromElasticsearch({ server: 'nginx' })).toBe(false);
    expect(fromElasticsearch(undefined)).toBe(false);
  });
});
