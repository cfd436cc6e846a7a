/** cluster-key-slot ships no types: its one function (ioredis's own slot function, which its Cluster client routes by). */
declare module 'cluster-key-slot' {
  export default function calculateSlot(key: string): number;
}
