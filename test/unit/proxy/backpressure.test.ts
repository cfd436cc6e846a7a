import { parseHostPort } from '../../../core/listen';
import { sizeHighWaterMark } from '../../../proxy/backpressure';

describe('sizeHighWaterMark', () => {
  it('keeps configured values', () => {
    expect(sizeHighWaterMark({ jobs: 10, bytes: 2048 }, 1e9)).toEqual({ jobs: 10, bytes: 2048 });
  });

  it('sizes bytes as half of Redis maxmemory, 1 GiB without one, and jobs as bytes / 16 KiB (at least 1000)', () => {
    expect(sizeHighWaterMark({ jobs: 0, bytes: 0 }, 512 * 1024 * 1024)).toEqual({
      jobs: 16384,
      bytes: 256 * 1024 * 1024,
    });
    expect(sizeHighWaterMark({ jobs: 0, bytes: 0 }, 0)).toEqual({ jobs: 65536, bytes: 1024 ** 3 });
    expect(sizeHighWaterMark({ jobs: 0, bytes: 0 }, 1024 * 1024).jobs).toBe(1000);
  });
});

describe('parseHostPort', () => {
  it('reads IPv4, bracketed IPv6 and all-interfaces forms', () => {
    expect(parseHostPort('127.0.0.1:8200')).toEqual({ host: '127.0.0.1', port: 8200 });
    expect(parseHostPort('[::1]:8200')).toEqual({ host: '::1', port: 8200 });
    expect(parseHostPort(':8200')).toEqual({ host: '0.0.0.0', port: 8200 });
    expect(parseHostPort('localhost:0')).toEqual({ host: 'localhost', port: 0 });
  });
});
