import type { SelfTime } from './cpu-profile';
import { type MachineSpeed, scaledGoal } from './machine-speed';
import type { Goal, ScenarioResult } from './report';
import { num, type ProcessProfile, type ProfiledPass, sortedCommands } from './where-it-goes';

/** A stage of the pipeline's per-event work: CPU s per 100k events from the profiled pass applied to measured CPU. */
interface Stage {
  readonly name: string;
  readonly amount: number;
  /** Work the baselines do too (TLS, HTTP, streams, (de)compression): not what the design adds. */
  readonly floor: boolean;
  /** What would make it cheaper (explanation, not a result). */
  readonly lever: string;
}

interface Rule {
  readonly process: string;
  readonly test: RegExp;
  readonly stage: string;
  readonly floor?: boolean;
  readonly lever: string;
}

const gc =
  'short-lived objects per event; the JSON.parse -> object -> JSON.stringify round trips allocate most of them';
const queueLever =
  'one BullMQ job per 40-event request (its Lua scripts and round trips per job): several requests per job, or a lighter queue primitive (a Redis stream append per batch)';
const runtime = 'TLS, HTTP, streams and socket writes (Node runtime)';

/** Which stage a package/file of a process's profile is; first match wins. */
const rules: readonly Rule[] = [
  { process: 'proxy', test: /^\(garbage collector\)$/, stage: 'garbage collection', lever: gc },
  {
    process: 'proxy',
    test: /^node:zlib$/,
    stage: 'gunzip',
    floor: true,
    lever: 'the baseline pays it too; one gunzip of the whole body costs less than a streaming inflate',
  },
  {
    process: 'proxy',
    test: /^apm-sidecar proxy\/intake|^ajv$/,
    stage: 'parse + validate each line',
    lever:
      'each line is JSON.parsed into objects only to be validated, the queue keeps the bytes, and the forwarder parses the line again: validating while scanning the bytes (no objects) takes one of the two parses away',
  },
  {
    process: 'proxy',
    test: /^(bullmq|ioredis|cluster-key-slot|msgpackr|@ioredis\/.+)$/,
    stage: 'enqueue (BullMQ job, Redis client)',
    lever: queueLever,
  },
  { process: 'proxy', test: /^\(native\)$|^\(program\)$|^node:/, stage: runtime, floor: true, lever: '' },
  { process: 'forwarder', test: /^\(garbage collector\)$/, stage: 'garbage collection', lever: gc },
  {
    process: 'forwarder',
    test: /^(bullmq|ioredis|cluster-key-slot|msgpackr|@ioredis\/.+)$/,
    stage: 'dequeue (BullMQ job, Redis client)',
    lever: queueLever,
  },
  {
    process: 'forwarder',
    test: /^apm-sidecar forwarder\/transform/,
    stage: 'decode + transform each event',
    lever:
      'the second JSON.parse of every event (the proxy parsed it already) and a new document object per event: transform from the validated form once instead of parse -> build -> stringify',
  },
  {
    process: 'forwarder',
    test: /^apm-sidecar forwarder\/(output|batch)/,
    stage: 'bulk lines (JSON.stringify of each document)',
    lever: 'JSON.stringify of each whole document: write the bulk line as it is transformed (no object in between)',
  },
  {
    process: 'forwarder',
    test: /^node:zlib$/,
    stage: 'zlib (inflate the job, gzip the bulk)',
    floor: true,
    lever: 'the direct loader gzips too; the job inflate is the queue keeping compressed bytes',
  },
  {
    process: 'forwarder',
    test: /^\(native\)$|^\(program\)$|^node:|^undici$|^@elastic\//,
    stage: `${runtime}, Elasticsearch client`,
    floor: true,
    lever: '',
  },
];

function processStages(p: ProcessProfile, cpuPer100k: number): Stage[] {
  const totals = new Map<string, { amount: number; floor: boolean; lever: string }>();
  let covered = 0;
  const add = (name: string, amount: number, floor: boolean, lever: string): void => {
    const t = totals.get(name) ?? { amount: 0, floor, lever };
    t.amount += amount;
    totals.set(name, t);
  };
  for (const t of p.load.byPackage) {
    const rule = rules.find((r) => r.process === p.name && r.test.test(t.name));
    add(rule?.stage ?? 'other', t.share * cpuPer100k, rule?.floor === true, rule?.lever ?? '');
    covered += t.share;
  }
  if (p.load.busyMs > 0) add('other', Math.max(0, 1 - covered) * cpuPer100k, false, '');
  return [...totals.entries()].map(([name, t]) => ({ name: `${p.name} ${name}`, ...t }));
}

function redisStages(profiled: ProfiledPass): Stage[] {
  const cpu = profiled.measured.cpuPer100k.redis ?? 0;
  const commands = sortedCommands(profiled.pass.redis.load);
  const total = commands.reduce((n, [, c]) => n + c.usec, 0);
  if (total === 0) return [{ name: 'redis', amount: cpu, floor: false, lever: '' }];
  const lua = commands.filter(([name]) => /^(evalsha|eval|evalsha_ro|fcall)$/.test(name));
  const luaShare = lua.reduce((n, [, c]) => n + c.usec, 0) / total;
  const perRequest = lua.reduce((n, [, c]) => n + c.calls, 0) / Math.max(profiled.pass.requests, 1);
  return [
    {
      name: `redis BullMQ Lua scripts (${num(perRequest)} evalsha per request)`,
      amount: luaShare * cpu,
      floor: false,
      lever: queueLever,
    },
    { name: 'redis other commands, AOF, event loop', amount: (1 - luaShare) * cpu, floor: false, lever: '' },
  ];
}

function pipelineStages(profiled: ProfiledPass): Stage[] {
  const stages = profiled.pass.processes.flatMap((p) => processStages(p, profiled.measured.cpuPer100k[p.name] ?? 0));
  return [...stages, ...redisStages(profiled)].filter((s) => s.amount > 0).sort((a, b) => b.amount - a.amount);
}

const sum = (stages: readonly { amount: number }[]): number => stages.reduce((n, s) => n + s.amount, 0);
const list = (stages: readonly Stage[]): string =>
  stages.map((s) => `${s.name} ${num(s.amount)}${s.floor ? ' (baseline work too)' : ''}`).join(', ');

/** "made of": every stage, largest first. */
function madeOf(stages: readonly Stage[], unit: string): string {
  return `  - made of (${unit}, shares of the profiled pass applied to the measured CPU): ${list(stages)}.`;
}

/**
 * "what would move it": the smallest set of the stages the design adds (not the baselines' floor) that covers
 * `need`, each with its lever; or, when even all of them at zero do not, that the floor alone is over the goal.
 */
const cutFrom = 'where the cut can come from';

function moveIt(stages: readonly Stage[], need: number, unit: string, lead = 'what would move it'): string {
  const design = stages.filter((s) => !s.floor && !s.name.endsWith(' other'));
  const floor = stages.filter((s) => s.floor);
  const designTotal = sum(design);
  const rest = sum(stages) - designTotal;
  if (need > designTotal) {
    return `  - ${lead}: the gap (${num(need)} ${unit}) is more than all the stages the design adds together (${num(designTotal)}); with those at zero, the baselines' own kind of work (${floor.map((f) => `${f.name} ${num(f.amount)}`).join(', ')}) and the rest (${num(rest)} in all) still miss it: it takes less runtime work per event (fewer, larger requests and writes: more events per TLS record, per HTTP request, per job) as well as a cheaper design.`;
  }
  const picked: Stage[] = [];
  for (const s of design) {
    if (sum(picked) >= need) break;
    picked.push(s);
  }
  const share = need / Math.max(sum(picked), 1e-9);
  const levers = picked.map((s) => `${s.name} ${num(s.amount)}${s.lever === '' ? '' : `: ${s.lever}`}`).join('; ');
  return `  - ${lead}: ${picked.length === 1 ? 'one stage covers the gap' : `no one stage covers the gap: it takes the ${picked.length} largest stages the design adds`} (${num(sum(picked))} of ${num(designTotal)} ${unit} the design adds; the gap is ${(share * 100).toFixed(0)}% of ${picked.length === 1 ? 'it' : 'them'}), so the cheaper design is: ${levers}.`;
}

function estimateLine(goal: Goal, speed: MachineSpeed | null): string[] {
  if (speed === null) return [];
  const s = scaledGoal(goal, speed);
  if (s === null) return [];
  return [
    `  - at the reference day's machine speed (estimate, factor ${speed.factor.toFixed(2)}, see Machine speed): ~${num(s.value)} (${num(s.low)}–${num(s.high)}), which ${s.met ? 'would meet' : 'would still miss'} ${goal.target}.`,
  ];
}

function detailOf(r: ScenarioResult | undefined, key: string): number {
  const v = r?.details[key];
  return typeof v === 'number' ? v : 0;
}

const perEventUs = (per100k: number): string => `${num(per100k * 10, 1)} µs`;

interface Context {
  readonly results: readonly ScenarioResult[];
  readonly profiled: ProfiledPass | undefined;
  readonly speed: MachineSpeed | null;
}

const notProfiled = '  - made of: not profiled (the profiled pass is the end-to-end scenario; none in this run).';

function cpuGoal(goal: Goal, limit: number, c: Context): string[] {
  const need = goal.ours - limit;
  const byProcess = Object.entries(c.profiled?.measured.cpuPer100k ?? {})
    .map(([name, v]) => `${name} ${num(v)}`)
    .join(', ');
  const head = `- **${goal.goal}**: ${num(goal.ours)} against ${goal.target}: a gap of ${num(need)} CPU s per 100k events (${perEventUs(need)} of ${perEventUs(goal.ours)} per event, ${((need / goal.ours) * 100).toFixed(0)}% of today's cost, must go)${byProcess === '' ? '' : `; by process ${byProcess}`}.`;
  if (c.profiled === undefined) return [head, notProfiled, ...estimateLine(goal, c.speed)];
  const stages = pipelineStages(c.profiled);
  return [
    head,
    madeOf(stages, 'CPU s per 100k events'),
    moveIt(stages, need, 'CPU s per 100k events'),
    ...estimateLine(goal, c.speed),
  ];
}

function proxyGoal(goal: Goal, limit: number, c: Context): string[] {
  const intake = c.results.find((r) => r.scenario === 'intake');
  const cpu = c.profiled?.measured.cpuPer100k.proxy ?? 100_000 / Math.max(goal.ours, 1);
  const budget = 100_000 / limit;
  const need = cpu - budget;
  const baseRate = detailOf(intake, 'events per baseline CPU s');
  const base = baseRate > 0 ? 100_000 / baseRate : null;
  const head = `- **${goal.goal}**: ${num(goal.ours)} against ${goal.target}: ${num(cpu)} proxy CPU s per 100k events (${perEventUs(cpu)} per event) against ${num(budget)} (${perEventUs(budget)}), a gap of ${num(need)}.`;
  const floorLine =
    base === null
      ? []
      : [
          base >= budget
            ? `  - the bare-gunzip baseline of this run (TLS, HTTP, gunzip, nothing else) alone costs ${perEventUs(base)} per event, over the ${perEventUs(budget)} budget: on this machine no Node server doing TLS + gunzip per request meets it; see the estimate at the reference day's speed.`
            : `  - the bare-gunzip baseline of this run (TLS, HTTP, gunzip, nothing else) costs ${perEventUs(base)} per event, which leaves ${perEventUs(budget - base)} per event for all the proxy adds (token, parse, validate, enqueue).`,
        ];
  const proxy = c.profiled?.pass.processes.find((p) => p.name === 'proxy');
  if (proxy === undefined) return [head, ...floorLine, notProfiled, ...estimateLine(goal, c.speed)];
  const stages = processStages(proxy, cpu).sort((a, b) => b.amount - a.amount);
  return [
    head,
    ...floorLine,
    madeOf(stages, 'proxy CPU s per 100k events'),
    moveIt(stages, need, 'proxy CPU s per 100k events'),
    ...estimateLine(goal, c.speed),
  ];
}

function epsGoal(goal: Goal, limit: number, c: Context): string[] {
  const e2e = c.results.find((r) => r.scenario === 'end-to-end');
  const cores = detailOf(e2e, 'machine cores') || 2;
  const pipeline = detailOf(e2e, 'pipeline CPU s per 100k events');
  const sink = detailOf(e2e, 'sink CPU s per 100k events');
  const loader = detailOf(e2e, 'load generator CPU s per 100k events');
  const machine = detailOf(e2e, 'machine cores busy, all processes');
  const ceilingAll = (cores * 100_000) / Math.max(pipeline + sink + loader, 1e-9);
  const ceilingPipeline = (cores * 100_000) / Math.max(pipeline, 1e-9);
  const ours = ((pipeline + sink + loader) * goal.ours) / 100_000;
  const budget = (cores * 100_000) / limit - sink - loader;
  const need = pipeline - budget;
  const head = `- **${goal.goal}**: ${num(goal.ours)} against ${goal.target}: a gap of ${num(limit - goal.ours)} events/s (${(goal.ours / limit).toFixed(2)}x the goal).`;
  const made = `  - made of: events/s on ${cores} cores is at most ${cores} / CPU per event. The pipeline costs ${num(pipeline)} CPU s per 100k events (${perEventUs(pipeline)} per event), the sink ${num(sink)}, the load generator ${num(loader)}: a ceiling of ${num(ceilingAll)} events/s with all three on the ${cores} cores (${num(ceilingPipeline)} for the pipeline alone). Over the load the machine had ${num(machine)} of ${cores} cores busy: these processes ${num(ours)}, every other process ${num(Math.max(0, machine - ours))}.${goal.ours < 0.9 * ceilingAll ? ` The run reached ${((goal.ours / ceilingAll) * 100).toFixed(0)}% of its CPU ceiling: the rest is waiting (other processes on the cores, flush delays, 16 requests in flight).` : ''}`;
  const stages = c.profiled === undefined ? [] : pipelineStages(c.profiled);
  const move =
    budget <= 0
      ? `  - what would move it: ${num(limit)} events/s on ${cores} cores leaves ${num((cores * 100_000) / limit)} CPU s per 100k events for everything on them, which the sink and the load generator of this run (${num(sink + loader)}) use up alone: on a machine this loaded no pipeline reaches it; the CPU entries below are still what moves it.`
      : need <= 0
        ? `  - what would move it: the CPU ceiling (${num(ceilingAll)}) is above the goal, so CPU per event is not what limits this run: the cores the pipeline did not get (${num(Math.max(0, machine - ours))} went to other processes) and waiting do; on an idle machine the ceiling applies.`
        : stages.length === 0
          ? `  - what would move it: ${num(limit)} events/s on ${cores} cores leaves ${num(budget)} CPU s per 100k events for the pipeline (after the sink and the load generator): a cut of ${num(need)}; not profiled in this run.`
          : `  - what would move it: ${num(limit)} events/s on ${cores} cores leaves ${num((cores * 100_000) / limit)} CPU s per 100k events for everything on them, ${num(budget)} for the pipeline after the sink and the load generator (today ${num(pipeline)}): the CPU entries are what move it, a cut of ${num(need)}.`;
  const cover = need > 0 && stages.length > 0 ? [moveIt(stages, need, 'CPU s per 100k events', cutFrom)] : [];
  return [head, made, move, ...cover, ...estimateLine(goal, c.speed)];
}

function bytesGoal(goal: Goal, limit: number, c: Context): string[] {
  const e2e = c.results.find((r) => r.scenario === 'end-to-end');
  const raw = detailOf(e2e, 'uncompressed bulk bytes per event');
  const ratio = raw / Math.max(goal.ours, 1e-9);
  return [
    `- **${goal.goal}**: ${num(goal.ours)} against ${goal.target}: a gap of ${num(goal.ours - limit)} bytes per event.`,
    `  - made of: ${num(raw)} uncompressed bulk bytes per event (action line and document) gzip to ${num(goal.ours)} (${ratio.toFixed(1)}x).`,
    `  - what would move it: at that compression, documents of at most ${num(limit * ratio)} bytes per event; or, at that size, a compression of ${(raw / limit).toFixed(1)}x (a higher gzip level, at a CPU cost).`,
  ];
}

interface MemoryPart {
  readonly name: string;
  readonly amount: number;
  /** What the lever could take away: all of it, or for the binary's pages one copy of them. */
  readonly cut: number;
  readonly lever: string;
}

const mib = 1024 * 1024;

function rssGoal(goal: Goal, limit: number, c: Context): string[] {
  const need = goal.ours - limit;
  const head = `- **${goal.goal}**: ${num(goal.ours)} against ${goal.target} MiB: a gap of ${num(need)} MiB.`;
  if (c.profiled === undefined) return [head, notProfiled];
  const kinds = new Map<string, { lever: string; by: Map<string, number> }>();
  const add = (kind: string, process: string, bytes: number, lever: string): void => {
    const k = kinds.get(kind) ?? { lever, by: new Map<string, number>() };
    k.by.set(process, (k.by.get(process) ?? 0) + Math.max(0, bytes) / mib);
    kinds.set(kind, k);
  };
  const nodes = c.profiled.pass.processes;
  for (const p of nodes) {
    const m = p.memory;
    add(
      'file-backed',
      p.name,
      m.file,
      `the node binary and libraries that each of the ${nodes.length} Node processes maps, counted in each RSS: proxy and forwarder in one process would count it once`,
    );
    add('above the end of the load', p.name, m.peak - m.rss, 'transient at the peak: a GC cycle, a bulk being built');
    if (p.heap === null) {
      add('anonymous', p.name, m.anonymous, '');
      continue;
    }
    add(
      'V8 heap in use',
      p.name,
      p.heap.heapUsed,
      'live objects at the end of the load (batches, jobs in flight, caches)',
    );
    add(
      'V8 heap reserved, not in use',
      p.name,
      p.heap.heapTotal - p.heap.heapUsed,
      'what V8 keeps for the next allocations: the heap sizing flags (semi-space, heap growing) move it',
    );
    add(
      'external + array buffers',
      p.name,
      p.heap.external,
      'Buffers held: request bodies, job bodies, zlib and socket buffers',
    );
    add(
      'other anonymous',
      p.name,
      m.anonymous - p.heap.heapTotal - p.heap.external,
      'code space, thread stacks, malloc arenas (zlib, OpenSSL)',
    );
  }
  const redisUsed = c.profiled.pass.redis.usedMemory;
  add('redis used_memory', 'redis', redisUsed, 'the jobs queued at the peak (held until indexed)');
  add(
    'redis rest of RSS',
    'redis',
    c.profiled.pass.redis.memory.peak - redisUsed,
    'the redis-server binary, its allocator and AOF buffers',
  );
  const parts: MemoryPart[] = [...kinds.entries()].map(([kind, k]) => {
    const split = [...k.by.entries()].filter(([, v]) => v > 0);
    const total = split.reduce((n, [, v]) => n + v, 0);
    const who = split.length > 1 ? split.map(([name, v]) => `${name} ${num(v)}`).join(' + ') : (split[0]?.[0] ?? '');
    return {
      name: kind.startsWith(who) ? kind : `${kind} (${who})`,
      amount: total,
      cut: kind === 'file-backed' ? total - Math.max(0, ...split.map(([, v]) => v)) : total,
      lever: k.lever,
    };
  });
  const sorted = parts.filter((p) => p.amount > 0).sort((a, b) => b.amount - a.amount);
  const picked: MemoryPart[] = [];
  for (const p of [...sorted].sort((a, b) => b.cut - a.cut)) {
    if (picked.reduce((n, x) => n + x.cut, 0) >= need || p.cut <= 0) break;
    picked.push(p);
  }
  const pickedSum = picked.reduce((n, x) => n + x.cut, 0);
  const peaks = c.profiled.pass.processes.map((p) => `${p.name} ${num(p.memory.peak / mib)}`).join(', ');
  return [
    head,
    `  - made of (MiB, profiled pass at the end of the load; its peaks ${peaks}): ${sorted.map((p) => `${p.name} ${num(p.amount)}`).join(', ')}.`,
    `  - what would move it: ${pickedSum >= need ? `the ${picked.length} largest parts cover the gap` : `even the ${picked.length} largest parts (${num(pickedSum)} MiB) do not cover it`}: ${picked.map((p) => `${p.name} ${num(p.amount)}${p.cut < p.amount ? `, of which ${num(p.cut)} can go` : ''}${p.lever === '' ? '' : ` (${p.lever})`}`).join('; ')}.`,
  ];
}

function idleGoal(goal: Goal, limit: number, c: Context): string[] {
  const measured = c.profiled?.measured;
  const idle = measured?.idlePercent ?? {};
  const head = `- **${goal.goal}**: ${num(goal.ours)} against ${goal.target}: a gap of ${num(goal.ours - limit)}% of a core.`;
  const parts = Object.entries(idle)
    .sort((a, b) => b[1] - a[1])
    .map(([name, v]) => {
      const w = measured?.wakeups?.[name];
      const wakes = (w?.main ?? 0) + (w?.others ?? 0);
      const cost = wakes > 0 ? ` (${num(wakes, 1)} wake-ups/s, ${num((v * 10_000) / wakes, 0)} µs of CPU each)` : '';
      return `${name} ${num(v)}${cost}`;
    });
  const busiest = [...(c.profiled?.pass.processes ?? [])].sort((a, b) => (idle[b.name] ?? 0) - (idle[a.name] ?? 0))[0];
  const samples = (t: readonly SelfTime[]): string =>
    t
      .slice(0, 3)
      .map((x) => `\`${x.name}\` ${(x.share * 100).toFixed(1)}%`)
      .join(', ');
  return [
    head,
    `  - made of (% of a core, measured pass): ${parts.join(', ') || 'not measured'}.`,
    `  - what would move it: fewer wake-ups (each costs the figure above), in the largest first${busiest === undefined || busiest.idle.byFunction.length === 0 ? '' : `; the ${busiest.name}'s idle samples: ${samples(busiest.idle.byFunction)}`}; the Redis commands at idle are listed under "Idle: what wakes each process".`,
    ...estimateLine(goal, c.speed),
  ];
}

function intakeRatio(r: ScenarioResult, c: Context): string[] {
  const target = 0.5 * (r.baseline ?? 0);
  const proxyRate = detailOf(r, 'events per proxy CPU s');
  const baseRate = detailOf(r, 'events per baseline CPU s');
  const cores = detailOf(r, 'proxy cores busy');
  const proxyCpu = 100_000 / Math.max(proxyRate, 1e-9);
  const baseCpu = 100_000 / Math.max(baseRate, 1e-9);
  const budget = (cores * 100_000) / Math.max(target, 1e-9);
  const need = proxyCpu - budget;
  const loaderOurs = detailOf(r, 'load generator CPU s (ours)');
  const loaderBase = detailOf(r, 'load generator CPU s (baseline)');
  const head = `- **${r.scenario}** (${r.metric}): ratio ${(r.ratio ?? 0).toFixed(2)} against ${r.goal}: ${num(r.ours)} against ${num(r.baseline ?? 0)} events/s; 0.5 is ${num(target)}.`;
  const made = `  - made of: events/s = cores the proxy gets / its CPU per event. The proxy had ${num(cores)} cores busy (one event loop, plus TLS and zlib threads) at ${perEventUs(proxyCpu)} per event (${num(proxyRate)} events per CPU s); the bare-gunzip baseline ${num(detailOf(r, 'baseline cores busy'))} cores at ${perEventUs(baseCpu)} per event (TLS, HTTP, gunzip only). The load generator used ${num(loaderOurs)} CPU s against the proxy and ${num(loaderBase)} against the baseline; the machine had ${num(detailOf(r, 'machine cores busy, all processes (ours)'))} and ${num(detailOf(r, 'machine cores busy, all processes (baseline)'))} cores busy.`;
  const proxy = c.profiled?.pass.processes.find((p) => p.name === 'proxy');
  const stages = proxy === undefined ? [] : processStages(proxy, proxyCpu).sort((a, b) => b.amount - a.amount);
  const workers = c.results.find((x) => x.scenario === 'intake, 2 workers');
  const lines = [
    head,
    made,
    ...(stages.length === 0 ? [notProfiled] : [madeOf(stages, 'proxy CPU s per 100k events of this scenario')]),
    `  - what would move it: at ${num(cores)} cores, ${num(target)} events/s needs at most ${perEventUs(budget)} of proxy CPU per event (${(budget / baseCpu).toFixed(1)}x the baseline's ${perEventUs(baseCpu)}) against ${perEventUs(proxyCpu)}: a cut of ${num(need)} proxy CPU s per 100k events (${perEventUs(need)} per event); its per-event parse, validate and enqueue are what the baseline does not do.`,
  ];
  if (stages.length > 0 && need > 0) lines.push(moveIt(stages, need, 'proxy CPU s per 100k events', cutFrom));
  if (workers !== undefined)
    lines.push(
      `  - or more cores per proxy: server.workers 2 ran ${num(workers.ours)} events/s in this run (the "intake, 2 workers" row); the ratio's goal is for one process.`,
    );
  return lines;
}

function workersRatio(r: ScenarioResult): string[] {
  const c1 = detailOf(r, 'proxy cores busy, 1 worker');
  const c2 = detailOf(r, 'proxy cores busy, 2 workers');
  const e1 = detailOf(r, 'proxy CPU s per 100k events, 1 worker');
  const e2 = detailOf(r, 'proxy CPU s per 100k events, 2 workers (primary + workers)');
  const cores = detailOf(r, 'machine cores') || 2;
  const machine = detailOf(r, 'machine cores busy, all processes, 2 workers');
  const loader = detailOf(r, 'load generator cores busy, 2 workers');
  const redis = detailOf(r, 'redis cores busy, 2 workers');
  const others = Math.max(0, machine - c2 - loader - redis);
  const coreGain = c2 / Math.max(c1, 1e-9);
  const cpuGain = e1 / Math.max(e2, 1e-9);
  return [
    `- **${r.scenario}** (${r.metric}): ratio ${(r.ratio ?? 0).toFixed(2)} against ${r.goal}: ${num(r.ours)} events/s with 2 workers against ${num(r.baseline ?? 0)} with 1.`,
    `  - made of: events/s = proxy cores busy / proxy CPU per event. The cores went ${num(c1)} -> ${num(c2)} (x${coreGain.toFixed(2)}), the CPU per event ${num(e1)} -> ${num(e2)} CPU s per 100k events (x${(e2 / Math.max(e1, 1e-9)).toFixed(2)}: the primary and the second worker's own work), and x${coreGain.toFixed(2)} / x${(1 / cpuGain).toFixed(2)} = ${(coreGain * cpuGain).toFixed(2)}. With 2 workers the machine had ${num(machine)} of ${cores} cores busy: proxy ${num(c2)}, load generator ${num(loader)}, Redis ${num(redis)}, every other process ${num(others)}.`,
    `  - what would move it: ${c2 + loader + redis + others >= cores * 0.9 ? `cores: the machine was full, so the second worker could only take cores from the load generator and Redis on the same ${cores} cores; with a core per worker (and Redis and the load elsewhere) the ratio tends to ${(2 * cpuGain).toFixed(2)} (2 x the CPU per event ratio)` : `the cores were not all busy (${num(machine)} of ${cores}): the proxy waited, not computed; the load generator's 16 connections may not keep 2 workers busy`}; and the ${num(e2 - e1)} CPU s per 100k events the second worker adds (not profiled: profile the proxy with server.workers 2 to split it).`,
  ];
}

function endToEndRatio(r: ScenarioResult, c: Context): string[] {
  const cores =
    detailOf(r, 'machine cores') ||
    detailOf(
      c.results.find((x) => x.scenario === 'end-to-end'),
      'machine cores',
    ) ||
    2;
  const target = 0.8 * (r.baseline ?? 0);
  const pipeline = detailOf(r, 'pipeline CPU s per 100k events');
  const sink = detailOf(r, 'sink CPU s per 100k events');
  const loader = detailOf(r, 'load generator CPU s per 100k events');
  const direct = detailOf(r, 'direct loader CPU s per 100k events (baseline)');
  const everything = (cores * 100_000) / Math.max(target, 1e-9);
  const budget = everything - sink - loader;
  const need = pipeline - budget;
  const head = `- **${r.scenario}** (${r.metric}): ratio ${(r.ratio ?? 0).toFixed(2)} against ${r.goal}: ${num(r.ours)} against ${num(r.baseline ?? 0)} documents/s by the direct loader; 0.8 is ${num(target)}.`;
  const made = `  - made of: the direct loader sends documents made ahead of time (no queue, no parse, no transform) at ${num(direct)} CPU s per 100k documents${direct > 0 ? '' : ' (not measured in this run)'}; the pipeline costs ${num(pipeline)} (${perEventUs(pipeline)} per event), plus the sink ${num(sink)} and the load generator ${num(loader)} on the same ${cores} cores.`;
  const stages = c.profiled === undefined ? [] : pipelineStages(c.profiled);
  const lines = [head, made];
  if (budget <= 0) {
    lines.push(
      `  - what would move it: ${num(target)} documents/s on ${cores} cores leaves ${num(everything)} CPU s per 100k events for everything, which the sink and the load generator alone use up: no pipeline meets it on these shared cores. It prices the whole pipeline against a loader with nothing to do; read the CPU entries (the first table's "Cost against APM Server" gap) for what moves it.`,
    );
    return lines;
  }
  lines.push(
    `  - what would move it: ${num(target)} documents/s on ${cores} cores leaves ${num(everything)} CPU s per 100k events for everything, ${num(budget)} for the pipeline after the sink and the load generator (today ${num(pipeline)}): the CPU entries move it, a cut of ${num(need)}.`,
  );
  if (stages.length > 0)
    lines.push(
      moveIt(
        stages,
        need,
        r.scenario === 'end-to-end'
          ? 'CPU s per 100k events'
          : 'CPU s per 100k events (stages of the 1-forwarder profile)',
      ),
    );
  return lines;
}

function overloadGoal(r: ScenarioResult): string[] {
  const rss = detailOf(r, 'proxy peak RSS MiB');
  const p99 = r.ours;
  const other = detailOf(r, 'answers other than 202/503 (incl. network errors)');
  const bytes = detailOf(r, 'Redis bytes per raw intake byte');
  const share503 = detailOf(r, 'share of 503');
  const failed = [
    rss > 256 ? `proxy peak RSS ${num(rss)} MiB > 256 (heap and buffers held while refusing)` : '',
    p99 >= 5 ? `503 p99 ${num(p99)} ms >= 5 (the refusal waits behind work on the event loop)` : '',
    other > 0 ? `${num(other)} answers other than 202/503` : '',
    bytes > 0.35 ? `Redis ${num(bytes)} bytes per raw intake byte > 0.35 (job bodies and BullMQ keys)` : '',
    share503 === 0 ? 'no 503 at all (the high-water mark was never reached)' : '',
  ].filter((s) => s !== '');
  return [
    `- **${r.scenario}** (${r.metric}): ${r.goal}; failed: ${failed.join('; ') || 'see Details'}.`,
    '  - made of: not profiled (the profiled pass is the end-to-end scenario); the figures are in Details.',
  ];
}

function topRow(r: ScenarioResult, c: Context): string[] {
  switch (r.scenario) {
    case 'intake':
      return intakeRatio(r, c);
    case 'intake, 2 workers':
      return workersRatio(r);
    case 'end-to-end':
    case 'end-to-end, 2 forwarders':
      return endToEndRatio(r, c);
    case 'overload':
      return overloadGoal(r);
    default:
      return [
        `- **${r.scenario}** (${r.metric}): ${num(r.ours)}${r.ratio === null ? '' : ` (ratio ${r.ratio.toFixed(2)})`} against ${r.goal}; not profiled, figures in Details.`,
      ];
  }
}

function goalRow(g: Goal, c: Context): string[] {
  const limit = g.limit;
  if (limit === undefined) return [`- **${g.goal}**: ${num(g.ours)} against ${g.target}.`];
  switch (g.key) {
    case 'cpu':
      return cpuGoal(g, limit, c);
    case 'proxy':
      return proxyGoal(g, limit, c);
    case 'eps':
      return epsGoal(g, limit, c);
    case 'bytes':
      return bytesGoal(g, limit, c);
    case 'rss':
      return rssGoal(g, limit, c);
    case 'idle':
      return idleGoal(g, limit, c);
    default:
      return [`- **${g.goal}**: ${num(g.ours)} against ${g.target}.`];
  }
}

/**
 * The "Goals not met" section: for every goal of the first table and of the cost table this run did not meet, the
 * measured gap, the profile entries it is made of and what would move it, all computed from this run's figures.
 */
export function goalsNotMet(results: readonly ScenarioResult[], speed: MachineSpeed | null): string[] {
  const c: Context = { results, profiled: results.find((r) => r.profile !== undefined)?.profile, speed };
  const entries = [
    ...results.filter((r) => !r.met).flatMap((r) => topRow(r, c)),
    ...results.flatMap((r) => (r.goals ?? []).filter((g) => !g.met).flatMap((g) => goalRow(g, c))),
  ];
  return [
    '### Goals not met: the gap, what it is made of, what would move it',
    '',
    'Every goal of the two tables above this run did not meet. "made of" splits the measured CPU of each process by the shares of the profiled pass, grouped into stages of the per-event work; "baseline work too" marks the kind of work the baselines do as well (TLS, HTTP, streams, (de)compression). "what would move it" names the smallest set of the stages the design adds that covers the gap, with what would make each cheaper; the lever texts are explanations, the figures are this run\'s.',
    '',
    ...(entries.length === 0 ? ['All goals met.'] : entries),
    '',
  ];
}
