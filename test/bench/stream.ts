// Stream throughput (issue 7, scenario 1): trivial JSON-line items through `polytask run` with
// 2 processes (node and python3 handlers) beside Python's pools, GNU parallel --pipe with two
// long-lived interpreters, and two limits: 2 forked Node children echoing over IPC (raw-ipc.ts), and
// raw blocks of lines to 2 Node children that write polytask's result lines (raw-blocks.ts).
// The rounds of all scenarios are interleaved, so that the machine's drift hits them alike.
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  bin, compiled, fmt, measure, median, python3, sources, table, tempDir, timeCommand, timeShell, which, workers, writeItems, writeSpec,
  type BenchContext, type Skipped,
} from './common.js';

export interface StreamResult {
  name: string;
  kind: 'polytask' | 'peer' | 'limit';
  itemsPerSecond: number;
  rounds: number[];
  // whole commands only: the same command over one item (its fixed cost), and the rate without it
  fixedSeconds?: number;
  itemsPerSecondAfterStartup?: number;
  // polytask's items/s over this one's (node and python3 handlers)
  nodeOverThis: number;
  python3OverThis: number;
}

export interface StreamReport {
  items: number;
  rounds: number;
  results: StreamResult[];
  skipped: Skipped[];
}

interface Scenario {
  name: string;
  kind: StreamResult['kind'];
  // seconds of one round over `file`
  run: (file: string) => number;
  // true: `run` times the whole command, so a one-item run is its fixed cost
  whole: boolean;
}

const peers = path.join(sources, 'peers.py');

function pythonPeer(kind: string) {
  return (file: string): number => {
    const r = spawnSync(python3, [peers, kind, file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`python3 peers.py ${kind} failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { seconds: number }).seconds;
  };
}

function scenarios(dir: string, count: number, skipped: Skipped[]): Scenario[] {
  const nodeSpec = writeSpec(path.join(dir, 'node.yml'), 'node');
  const pythonSpec = writeSpec(path.join(dir, 'python3.yml'), 'python3');
  const polytask = (spec: string) => (file: string) => timeCommand(process.execPath, [bin, 'run', '-s', spec, '-d', file, '-p', '2']);
  const list: Scenario[] = [
    { name: 'polytask run, node handler, -p 2', kind: 'polytask', whole: true, run: polytask(nodeSpec) },
    { name: 'polytask run, python3 handler, -p 2', kind: 'polytask', whole: true, run: polytask(pythonSpec) },
    { name: 'limit: 2 forked Node children echoing over IPC', kind: 'limit', whole: true, run: (file) => timeCommand(process.execPath, [path.join(compiled, 'raw-ipc.js'), file]) },
    { name: 'limit: raw 16 KB blocks to 2 Node children writing polytask\'s result lines', kind: 'limit', whole: true, run: (file) => timeCommand(process.execPath, [path.join(compiled, 'raw-blocks.js'), file]) },
    { name: 'multiprocessing.Pool(2).imap_unordered, chunksize 1', kind: 'peer', whole: false, run: pythonPeer('pool') },
    { name: 'multiprocessing.Pool(2).imap_unordered, chunksize auto', kind: 'peer', whole: false, run: pythonPeer('pool-auto') },
    { name: 'script by hand: Pool(2).imap_unordered, chunksize 1000, JSON lines out', kind: 'peer', whole: true, run: (file) => timeCommand(python3, [path.join(workers, 'chunked-pool.py'), file]) },
  ];
  const executor = 'concurrent.futures.ProcessPoolExecutor(2).map';
  if (count <= 200_000) list.push({ name: executor, kind: 'peer', whole: false, run: pythonPeer('executor') });
  else skipped.push({ name: executor, reason: 'about 5,000 items/s here: measured at 100,000 items only, to keep the run short' });
  const gnu = (interpreter: string, script: string) => (file: string) =>
    timeShell(`parallel --pipe --round-robin -j2 ${interpreter} ${path.join(workers, script)} < ${file}`);
  if (which('parallel')) {
    list.push({ name: 'GNU parallel --pipe --round-robin -j2, python3', kind: 'peer', whole: true, run: gnu(python3, 'echo-lines.py') });
    list.push({ name: 'GNU parallel --pipe --round-robin -j2, node', kind: 'peer', whole: true, run: gnu(process.execPath, 'echo-lines.mjs') });
  } else {
    skipped.push({ name: 'GNU parallel --pipe --round-robin', reason: "`parallel` is not installed (Debian: apt-get install -y parallel)" });
  }
  return list;
}

export function runStream(ctx: BenchContext, items: number, rounds: number): StreamReport {
  const dir = tempDir();
  const input = writeItems(path.join(dir, 'items.jsonl'), items);
  const one = writeItems(path.join(dir, 'one.jsonl'), 1);
  const skipped: Skipped[] = [];
  const list = scenarios(dir, items, skipped);
  // the fixed cost of each whole command (the one-item run, after a warm-up one), and a warm-up of the others
  const fixed = list.map((s) => (s.whole ? measure(ctx.rounds, () => s.run(one)).median : (s.run(one), undefined)));
  ctx.log(`stream ${items}: measured the one-item runs`);
  const times = list.map((): number[] => []);
  for (let r = 0; r < rounds; r++) {
    list.forEach((_, k) => {
      const i = (k + r) % list.length;
      times[i]!.push(list[i]!.run(input));
    });
    ctx.log(`stream ${items}: round ${r + 1} of ${rounds} done`);
  }
  const rates = times.map((t) => items / median(t));
  const byName = (prefix: string) => rates[list.findIndex((s) => s.name.startsWith(prefix))]!;
  const nodeRate = byName('polytask run, node');
  const pythonRate = byName('polytask run, python3');
  const results = list.map((s, i): StreamResult => {
    const wall = median(times[i]!);
    const f = fixed[i];
    return {
      name: s.name,
      kind: s.kind,
      itemsPerSecond: Math.round(rates[i]!),
      rounds: times[i]!,
      ...(f === undefined ? {} : { fixedSeconds: f }),
      // undefined when the one-item run took as long as the whole (noise on a small count)
      ...(f === undefined || wall <= f ? {} : { itemsPerSecondAfterStartup: Math.round((items - 1) / (wall - f)) }),
      nodeOverThis: nodeRate / rates[i]!,
      python3OverThis: pythonRate / rates[i]!,
    };
  });
  return { items, rounds, results, skipped };
}

export function formatStream(report: StreamReport): string {
  return [
    `${fmt.int(report.items)} trivial items (\`{"i":0,"name":"item-0"}\`), JSON lines in, one JSON result line out per item (to /dev/null), ` +
      `2 processes, median of ${report.rounds} round(s) after a warm-up.`,
    'items/s: wall time of the whole command for polytask, the limits and GNU parallel (start-up included); ' +
      "for Python's pools, from the creation of the pool (interpreter start-up and reading the file excluded).",
    'one item: the same command over one item (its fixed cost); after start-up: (items - 1) / (wall - one item).',
    '',
    table(
      ['scenario', 'items/s', 'polytask node / this', 'polytask python3 / this', 'one item (s)', 'items/s after start-up'],
      report.results.map((r) => [
        r.name, fmt.int(r.itemsPerSecond), fmt.x(r.nodeOverThis), fmt.x(r.python3OverThis),
        r.fixedSeconds === undefined ? '-' : fmt.s(r.fixedSeconds),
        r.itemsPerSecondAfterStartup === undefined ? '-' : fmt.int(r.itemsPerSecondAfterStartup),
      ]),
    ),
    ...report.skipped.map((s) => `\nskipped: ${s.name}: ${s.reason}`),
  ].join('\n');
}
