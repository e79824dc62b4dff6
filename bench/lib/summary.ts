/** Judging a finished run against its targets and printing the summary after the log lines. */
import type { LoadResult } from './load.js';
import { combineOthers } from './measure.js';
import { args, databaseUrl, settings, STORM_ROUNDS } from './options.js';
import { report, sideName, type Measured, type ScenarioReport, type Side, type StormReport } from './report.js';
import { round, table } from './stats.js';

/** "other" CPU above this means something outside the benchmark competed for the two cores. */
const NOISE_CORES = 0.15;
const CPU_COLUMNS = ['server', 'postgres', 'redis', 'load generator', 'kernel threads', 'interrupts', 'steal', 'other'];

/** The unrounded ratio: a target is judged on it, so 0.497 misses 0.5 although it prints as 0.50. */
const exactRatio = (ours: number | undefined, base: number | undefined) => (ours !== undefined && base ? ours / base : undefined);
const ratio = (ours: number | undefined, base: number | undefined) => {
  const exact = exactRatio(ours, base);
  return exact === undefined ? undefined : round(exact, 2);
};
const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : round((sorted[middle - 1]! + sorted[middle]!) / 2, 2);
};
const fmt = (value: number | undefined | null, suffix = '') => (value === undefined || value === null ? '-' : `${value}${suffix}`);
const errorsOf = (outcomes: Record<string, number> | undefined, ok: RegExp) =>
  outcomes
    ? Object.entries(outcomes)
        .filter(([key]) => !ok.test(key))
        .map(([key, count]) => `${key}: ${count}`)
        .join(', ') || 'none'
    : '-';

/** One table row: a rate beside the baseline's, and the latency behind it. */
const compareRow = (
  name: string,
  ours: number,
  base: number | undefined,
  latency: { p50: number; p99: number },
  baseLatency: { p50: number; p99: number } | undefined,
  errors: string,
): (string | number)[] => [
  name,
  ours,
  fmt(base),
  fmt(ratio(ours, base)),
  latency.p50,
  latency.p99,
  `${fmt(baseLatency?.p50)} / ${fmt(baseLatency?.p99)}`,
  errors,
];

function summaryTable(): string {
  const { join, seats, seatsPoll, hold, sale } = report.scenarios;
  const rows: (string | number)[][] = [];
  const loadRow = (name: string, s: ScenarioReport<LoadResult>) => {
    if (!s.ours) return;
    const o = s.ours.result;
    const b = s.baseline?.result;
    rows.push(compareRow(name, o.rps, b?.rps, o.latency, b?.latency, errorsOf(o.outcomes, /^(2\d\d|304)$/)));
  };
  loadRow('1 queue join', join);
  loadRow('2 seat map read', seats);
  loadRow('2b seat map poll (If-None-Match: 304)', seatsPoll);
  loadRow(`3 hold storm (N=${settings.storm}, ${STORM_ROUNDS} rounds)`, hold);
  if (sale.ours) {
    const o = sale.ours.result;
    // The full sale's reference is the PostgreSQL floor: the same purchases from pgbench, nothing in front.
    rows.push(compareRow('4 full sale: purchases/s (vs PostgreSQL floor)', o.purchasesPerSec, sale.floor?.purchasesPerSec, o.endToEnd, undefined, errorsOf(o.outcomes, / 20\d$/)));
    rows.push(compareRow('4 full sale: requests/s', o.rps, undefined, o.latency, undefined, ''));
  }
  const other = sideName('baseline');
  return table(['scenario', 'ours/s', `${other}/s`, 'ratio', 'p50 ms', 'p99 ms', `${other} p50/p99`, 'errors (ours)'], rows);
}

export function judgeNoise(): void {
  const measured = Object.values(report.scenarios).flatMap((s) => [(s as ScenarioReport<unknown>).ours, (s as ScenarioReport<unknown>).baseline]);
  const steps = measured.filter((m): m is Measured<unknown> => m !== undefined);
  const maxOtherCores = Math.max(0, ...steps.map((m) => m.cpu.other ?? 0));
  report.noise = { maxOtherCores, disturbed: maxOtherCores > NOISE_CORES, culprits: combineOthers(steps) };
}

const flagsNamed = () => settings.serviceNodeFlags.join(' ');
const copyName = () => (settings.against === undefined ? 'its copy' : `its copy at ${settings.against}`);
function copyMeaning(): string {
  const flags = settings.serviceNodeFlags.length > 0 ? `the effect of ${flagsNamed()}` : undefined;
  if (settings.against === undefined) return flags ?? "the bench's error";
  return flags ? `the change's effect and ${flags}` : "the change's effect";
}

export function judgeTargets(): void {
  const { join, seats, seatsPoll, hold } = report.scenarios;
  // The targets are the service's as shipped: one run with other Node flags is an experiment, not a verdict.
  const unjudged = settings.serviceNodeFlags.length > 0 ? ` (not judged: the service ran with ${flagsNamed()})` : '';
  const add = (target: string, measured: string, met: boolean | null) => report.targets.push({ target, measured, met });
  const ratioTarget = (name: string, s: ScenarioReport<LoadResult>, minimum: number) => {
    if (!s.ours) return;
    const r = exactRatio(s.ours.result.rps, s.baseline?.result.rps);
    // Against its own copy the service has no target to meet: the ratio is the bench's error, or with
    // --against what the code changed since that revision, or with --service-node-flags what they do.
    if (settings.selfCheck) {
      add(`${name}: the service over ${copyName()} (${copyMeaning()}: 100% is none)`, r === undefined ? 'no copy' : `${round(r * 100, 1)}%`, null);
      return;
    }
    add(`${name} >= ${minimum * 100}% of baseline req/s${unjudged}`, r === undefined ? 'no baseline' : `${round(r * 100, 1)}%`, r === undefined || unjudged ? null : r >= minimum);
  };
  ratioTarget('queue join', join, 0.6);
  ratioTarget('seat map read', seats, 2);
  ratioTarget('seat map poll with If-None-Match', seatsPoll, 2);
  ratioTarget('hold', hold, 0.6);
  const { sale } = report.scenarios;
  if (sale.ours) {
    const r = exactRatio(sale.ours.result.purchasesPerSec, sale.floor?.purchasesPerSec);
    add(`full sale >= 50% of the PostgreSQL floor purchases/s${unjudged}`, r === undefined ? 'no floor' : `${round(r * 100, 1)}%`, r === undefined || unjudged ? null : r >= 0.5);
  }
  if (sale.floor) add('the floor bought every seat it tried', `${sale.floor.purchased}/${sale.floor.transactions}`, sale.floor.purchased === sale.floor.transactions);
  if (seats.ours) add('seat map read p99 <= 50 ms', `${seats.ours.result.latency.p99} ms`, seats.ours.result.latency.p99 <= 50);
  if (hold.ours) {
    const rounds = hold.ours.result.rounds;
    const ok = rounds.every(
      (r) => r.held === 50 && r.seatsHeldInDb === 50 && r.pendingInDb === 50 && r.serverErrors === 0 && r.socketErrors === 0 && r.durationMs < 10_000,
    );
    const users = hold.ours.result.users;
    add(
      `${users} users racing for 50 seats: exactly 50 held, 0 5xx, done < 10 s${users < 10_000 ? ' (the target is N=10,000: --storm 10000)' : ''}`,
      rounds
        .map((r, i) => `round ${i + 1}: ${r.held} held (${r.seatsHeldInDb} in PostgreSQL), ${r.serverErrors} 5xx, ${r.socketErrors} socket errors, ` +
          `done in ${(r.durationMs / 1000).toFixed(2)} s, all 50 held after ${fmt(r.timeToAllHeldMs, ' ms')}`)
        .join('; '),
      ok,
    );
  }
  const violations = report.invariants.reduce((sum, entry) => sum + entry.violations.length, 0);
  add('invariants hold after every scenario', `${report.invariants.length} checks, ${violations} violations`, report.invariants.length === 0 ? null : violations === 0);
}

export function printSummary(): void {
  console.log(`\nFlash-sale benchmark, ${report.machine.cores} cores (${report.machine.cpuModel}), ${settings.connections} connections, ` +
    `Node ${process.version}, PostgreSQL ${report.machine.postgres}, Redis ${report.machine.redis}\n`);
  console.log(summaryTable());
  const paired = (['join', 'seats', 'seatsPoll', 'hold'] as const).flatMap((name) => {
    const ratios = report.scenarios[name].pairedRatios;
    return ratios && ratios.length > 1 ? [`  ${name}: ${ratios.join(' ')} (median ${median(ratios)})`] : [];
  });
  const saleRatios = report.scenarios.sale.pairedRatios;
  if (saleRatios && saleRatios.length > 1) paired.push(`  full sale (each round against the floor run right after it): ${saleRatios.join(' ')} (median ${median(saleRatios)})`);
  if (paired.length > 0) {
    console.log(`\nRatio in each pair of slices run back to back (the table's ratio is over all of them; the spread is the machine's):\n${paired.join('\n')}`);
  }
  const storm = report.scenarios.hold;
  if (storm.ours) {
    const describe = (r: StormReport) =>
      `${r.rounds.map((round) => `${round.held} held / ${round.conflicts} x 409 / all held after ${fmt(round.timeToAllHeldMs, ' ms')} / over in ${(round.durationMs / 1000).toFixed(2)} s`).join('; ')}`;
    console.log(`\nHold storm, ${settings.storm} users for 50 seats, ${STORM_ROUNDS} rounds per server (table: all rounds together).\n  service:  ${describe(storm.ours.result)}` +
      (storm.baseline ? `\n  ${`${sideName('baseline')}:`.padEnd(9)} ${describe(storm.baseline.result)}` : ''));
  }
  const sale = report.scenarios.sale.ours?.result;
  const saleRounds = settings.saleRounds > 1 ? ` (${settings.saleRounds} rounds of ${settings.buyers} buyers, together)` : '';
  if (sale) {
    console.log(`Full sale${saleRounds}: ${sale.purchased}/${sale.buyers} buyers paid; in line p50 ${sale.inLine.p50} ms / p99 ${sale.inLine.p99} ms, ` +
      `buying (admitted → paid) p50 ${sale.buying.p50} ms / p99 ${sale.buying.p99} ms; hold p50 ${sale.byStep.hold?.p50} ms, payment p50 ${sale.byStep.pay?.p50} ms.`);
  }
  const floor = report.scenarios.sale.floor;
  if (floor) {
    console.log(`PostgreSQL floor${saleRounds ? ', the same rounds' : ''}: pgbench, ${floor.clients} clients, ${floor.purchased}/${floor.transactions} purchases (hold + payment functions), ` +
      `${floor.purchasesPerSec} purchases/s, ${floor.latencyAvgMs} ms each on average.`);
  }
  const reads = report.scenarios.sale.seatMapReads;
  if (reads) {
    console.log(`Seat map reads per purchase in the sale: ${reads.cache} from the instance's copy, ${reads.shared} joined a read in flight, ` +
      `${reads.database} read PostgreSQL.`);
  }
  const steps = report.scenarios.sale.steps;
  if (steps) {
    console.log(`The sale's requests one kind at a time (all ${settings.buyers} buyers per step; the service's CPU per request, µs): ` +
      `${steps.map((c) => `${c.step} ${c.serverUs}${c.unexpected > 0 ? ` (${c.unexpected} unexpected answers)` : ''}`).join(', ')}.`);
  }
  const cpuPerPurchase = perPurchase();
  if (cpuPerPurchase.length > 0) {
    console.log(`CPU per purchase (ms; cores used x duration / purchases): ${cpuPerPurchase.map(({ run, split }) => `${run}: ${split}`).join('; ')}.`);
  }
  const [service, floorCpu] = cpuPerPurchase;
  if (service && floorCpu && sale && floor) {
    console.log(`So a purchase takes ${fmt(ratio(service.totalMs, floorCpu.totalMs))} times the floor's CPU: with the cores as busy as under the floor, ` +
      `the sale would read ${fmt(ratio(floorCpu.totalMs, service.totalMs))} of it. It read ${fmt(ratio(sale.purchasesPerSec, floor.purchasesPerSec))}: ` +
      `what lies between is cores left idle or the server's thread waiting for one.`);
  }
  const cpuRows = Object.entries(report.scenarios).flatMap(([name, s]) =>
    (['ours', 'baseline'] as Side[]).flatMap((side) => {
      const m = (s as ScenarioReport<unknown>)[side];
      return m ? [[`${name} (${sideName(side)})`, ...CPU_COLUMNS.map((k) => m.cpu[k] ?? 0), m.loopBusy ?? '-', m.loopWait ?? '-']] : [];
    }),
  );
  if (cpuRows.length > 0) {
    console.log(
      `\nCores used during each run (of ${report.machine.cores}); the share of the run's time the service's event loop was busy, and the part of that time its thread waited for a core:\n` +
        table(['run', 'server', 'postgres', 'redis', 'load gen', 'kernel', 'irq', 'steal', 'other', 'server loop', 'loop waits'], cpuRows),
    );
  }
  if (report.noise.disturbed) {
    console.log(
      `WARNING: other programs used up to ${report.noise.maxOtherCores} cores during a measured run ` +
        `(${report.noise.culprits.map((c) => `${c.process} ${c.cores}`).join(', ')}): the figures are disturbed; rerun on a quiet machine.`,
    );
  }
  if (report.raw.figures.length > 0) {
    console.log(`\nThe stores alone (${settings.connections} connections):\n${table(
      ['tool', 'statement', 'ops/s', 'avg ms'],
      report.raw.figures.map((f) => [f.tool, f.what, f.rps, fmt(f.latencyAvgMs)]),
    )}`);
  }
  console.log(`\nTargets:`);
  for (const t of report.targets) console.log(`  ${t.met === null ? 'n/a ' : t.met ? 'MET ' : 'MISS'}  ${t.target}: ${t.measured}`);
  for (const [scenario, s] of Object.entries(report.scenarios)) {
    const profile = (s as ScenarioReport<unknown>).ours?.profile;
    if (!profile) continue;
    console.log(`\nProfile of the service during ${scenario} (${profile.idlePct}% idle; self time of busy samples):`);
    console.log(`  self time by area: ${profile.byArea.map((a) => `${a.area} ${a.pct}%`).join(', ')}`);
    console.log(`  inclusive (callees counted): ${profile.inclusiveByArea.map((a) => `${a.area} ${a.pct}%`).join(', ')}`);
    for (const f of profile.topFunctions.slice(0, 10)) {
      console.log(`  ${String(f.pct).padStart(5)}%  ${f.fn}  ${f.where}${f.calledFrom ? `  <- ${f.calledFrom}` : ''}`);
    }
  }
  console.log(`\nJSON: ${args.out}${args['drop-db'] ? '' : `\nDatabase kept for inspection: ${databaseUrl} (re-check with npm run bench:check -- --database-url ${databaseUrl})`}`);
}

/** One run's CPU per purchase: by process as the summary prints it, and in all. */
interface PurchaseCpu {
  run: string;
  split: string;
  totalMs: number;
}

/**
 * The full sale's and the floor's CPU per purchase, by process: where a purchase's time goes on a shared
 * machine. `other` and `steal` are left out of each total: they are not the purchases' work.
 */
function perPurchase(): PurchaseCpu[] {
  const { ours, floor } = report.scenarios.sale;
  const parts = ['server', 'postgres', 'redis', 'load generator'];
  const split = (run: string, cpu: Record<string, number>, ms: number, purchases: number): PurchaseCpu => {
    const each = (cores: number) => (cores * ms) / purchases;
    const named = parts.filter((part) => (cpu[part] ?? 0) > 0).map((part) => `${part} ${each(cpu[part]!).toFixed(2)}`);
    const totalMs = Object.entries(cpu).filter(([group]) => group !== 'other' && group !== 'steal').reduce((sum, [, cores]) => sum + each(cores), 0);
    return { run, split: `${named.join(', ')}, all ${totalMs.toFixed(2)}`, totalMs };
  };
  const rows: PurchaseCpu[] = [];
  if (ours && ours.result.purchased > 0) rows.push(split('service', ours.cpu, ours.result.durationMs, ours.result.purchased));
  if (floor?.cpu && floor.purchased > 0) rows.push(split('floor', floor.cpu, floor.durationMs, floor.purchased));
  return rows;
}
