// ioredis's own slot function (CRC16/XMODEM of the hash tag), the same one its Cluster client routes by.
import keySlot from 'cluster-key-slot';

import { partitionsOf } from '../../../queue/partitions';

/** The slot ranges `redis-cli --cluster create` gives n masters. */
function masterOf(slot: number, masters: number): number {
  return Math.min(masters - 1, Math.floor((slot * masters) / 16384));
}

describe('queue partitions', () => {
  it('one partition is the single queue with the key names of before', () => {
    expect(partitionsOf('apm-intake', 1)).toEqual([
      { index: 0, queueName: 'apm-intake', keyPrefix: 'apm-sidecar:{apm-intake}', label: '0' },
    ]);
  });

  it("keeps a partition's queue keys and its own keys in one slot", () => {
    for (const p of partitionsOf('apm-intake', 12)) {
      const slot = keySlot(`bull:${p.queueName}:wait`);
      expect(keySlot(`bull:${p.queueName}:meta`)).toBe(slot);
      expect(keySlot(`${p.keyPrefix}:dlq`)).toBe(slot);
      expect(keySlot(`${p.keyPrefix}:starts:42`)).toBe(slot);
    }
  });

  it.each([
    [3, 3],
    [3, 6],
    [3, 12],
    [6, 6],
    [6, 12],
  ])('spreads evenly: %i masters, %i partitions', (masters, count) => {
    const perMaster = new Array<number>(masters).fill(0);
    for (const p of partitionsOf('apm-intake', count)) {
      const m = masterOf(keySlot(`bull:${p.queueName}:wait`), masters);
      perMaster[m] = (perMaster[m] ?? 0) + 1;
    }
    expect(perMaster).toEqual(new Array<number>(masters).fill(count / masters));
  });

  it('gives each partition distinct names', () => {
    const ps = partitionsOf('apm-intake', 12);
    expect(new Set(ps.map((p) => p.queueName)).size).toBe(12);
    expect(new Set(ps.map((p) => p.keyPrefix)).size).toBe(12);
  });
});
