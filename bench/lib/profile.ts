import { readFile } from 'node:fs/promises';

/** The parts of a V8 .cpuprofile the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  sampledMs: number;
  /** Share of samples in which the process was waiting (event loop idle). */
  idlePct: number;
  /** Self time by area: a package, a src/ folder, Node internals, GC, … (percent of busy time). */
  byArea: { area: string; pct: number }[];
  /** Time spent anywhere under an area's frames (percent of busy time): what a layer costs, callees included. */
  inclusiveByArea: { area: string; pct: number }[];
  /** Functions with the most self time (percent of busy time), with the caller that accounts for most of it. */
  topFunctions: { fn: string; where: string; pct: number; calledFrom: string }[];
}

function areaOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8/native (program)';
    return functionName.startsWith('(') ? functionName : 'V8 builtins';
  }
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  const src = /\/(src\/(?:modules\/[^/]+|[^/]+))/.exec(url);
  if (src) return src[1]!.replace(/\.[jt]s$/, '');
  if (url.includes('/bench/')) return 'bench';
  if (url.startsWith('node:')) {
    const module = url.replace(/^node:(internal\/)?/, '').split('/')[0]!;
    return `node:${module}`;
  }
  return url;
}

/**
 * Self time per area and per function, for the samples taken within the windows (CLOCK_MONOTONIC
 * microseconds, the clock of both V8's profiler and process.hrtime), so one profile of a whole run can be
 * cut into scenarios.
 */
export async function summarizeProfile(path: string, windows?: readonly { fromUs: number; toUs: number }[], top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const label = (id: number | undefined) => {
    const frame = id === undefined ? undefined : byId.get(id)?.callFrame;
    if (!frame) return '';
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/').replace(/^file:\/\//, '')}:${frame.lineNumber + 1}` : '';
    return `${frame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
  };
  /** Areas on the stack of each node, itself included (memoised: stacks share prefixes). */
  const stackAreas = new Map<number, Set<string>>();
  const areasOn = (id: number): Set<string> => {
    const known = stackAreas.get(id);
    if (known) return known;
    const parent = parentOf.get(id);
    const set = new Set(parent === undefined ? [] : areasOn(parent));
    const { url, functionName } = byId.get(id)!.callFrame;
    if (!functionName.startsWith('(') || url) set.add(areaOf(url, functionName));
    stackAreas.set(id, set);
    return set;
  };
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    if (windows && !windows.some((window) => t >= window.fromUs && t <= window.toUs)) continue;
    const next = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + next);
  }
  let total = 0;
  let idle = 0;
  const areas = new Map<string, number>();
  const functions = new Map<string, { fn: string; where: string; us: number; callers: Map<string, number> }>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    total += us;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    for (const onStack of areasOn(id)) inclusive.set(onStack, (inclusive.get(onStack) ?? 0) + us);
    const where = url ? `${url.replace(/^.*\/(node_modules|src|bench)\//, '$1/').replace(/^file:\/\//, '')}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const entry = functions.get(key) ?? { fn: functionName || '(anonymous)', where, us: 0, callers: new Map<string, number>() };
    entry.us += us;
    const caller = label(parentOf.get(id));
    entry.callers.set(caller, (entry.callers.get(caller) ?? 0) + us);
    functions.set(key, entry);
  }
  const busy = total - idle || 1;
  const pct = (us: number) => Math.round((us / busy) * 1000) / 10;
  return {
    sampledMs: Math.round(total / 1000),
    idlePct: total ? Math.round((idle / total) * 1000) / 10 : 0,
    byArea: [...areas].sort((a, b) => b[1] - a[1]).slice(0, top).map(([area, us]) => ({ area, pct: pct(us) })),
    inclusiveByArea: [...inclusive]
      .filter(([area]) => !area.startsWith('node:') && !area.startsWith('V8'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, pct: pct(us) })),
    topFunctions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ fn: f.fn, where: f.where, pct: pct(f.us), calledFrom: [...f.callers].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '' })),
  };
}

export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
