/**
 * The JSON of values that many documents share by reference (the job's host, process, service, agent, ...; the
 * processor and data_stream objects): written once per job, then spliced into each document's bulk line instead
 * of being serialized again (output/sink.ts). Only objects that are never mutated once a document holds them may
 * be registered: the cached text must stay what JSON.stringify of the object gives.
 */
export type Fragments = ReadonlyMap<object, string>;

export class FragmentCache {
  private readonly texts = new Map<object, string>();

  get fragments(): Fragments {
    return this.texts;
  }

  /** Registers `value` (an object) with its JSON; anything else is ignored. Returns the value. */
  add<T>(value: T): T {
    if (typeof value === 'object' && value !== null && !this.texts.has(value)) {
      const text: unknown = JSON.stringify(value);
      if (typeof text === 'string') this.texts.set(value, text);
    }
    return value;
  }
}
