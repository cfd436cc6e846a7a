/**
 * The Redis hash tags of the queue's partitions, in order: partition i of N uses the first N. Chosen so that on a
 * cluster of 3 (or 6) masters with the slots split evenly, as `redis-cli --cluster create` splits them, each master
 * owns an equal share of the first 3, 6, 9 or 12 (CRC16 slots 27, 6746, 11641, 3387, 8281, 15004, 2683, 7450,
 * 12408, 4154, 10809, 15704). test/unit/queue/partitions.test.ts recomputes the slots.
 */
export const PARTITION_TAGS: readonly string[] = [
  'q41',
  'q26',
  'q2',
  'q0',
  'q43',
  'q20',
  'q27',
  'q1',
  'q42',
  'q40',
  'q25',
  'q3',
];
