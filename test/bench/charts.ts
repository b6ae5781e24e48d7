// The benchmark's tables as SVG bar charts (written into docs/ by `npm run bench -- --charts`):
// throughput against the peers, memory against items, CPU-bound scaling with processes. Plain
// SVG, no library: labelled horizontal bars, polytask's in one colour and the peers' in another.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MemoryReport } from './memory.js';
import type { ScalingReport } from './scaling.js';
import type { StreamReport } from './stream.js';

export interface Bar {
  label: string;
  value: number;
  // how the value is printed at the end of its bar
  text: string;
  ours: boolean;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A horizontal bar chart: a title, a note under it, one bar per row */
export function barChart(title: string, note: string, bars: Bar[]): string {
  const width = 860;
  const labelWidth = 430;
  const barArea = width - labelWidth - 110;
  const row = 26;
  const top = 58;
  const height = top + bars.length * row + 16;
  const max = Math.max(...bars.map((b) => b.value), 1e-9);
  const rows = bars.map((bar, i) => {
    const y = top + i * row;
    const w = Math.max(1, (bar.value / max) * barArea);
    return [
      `<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${w.toFixed(1)}" height="${row - 8}" fill="${bar.ours ? '#2f6fde' : '#9aa4b1'}"/>`,
      `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 17}">${escape(bar.text)}</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="24" font-size="16" font-weight="bold">${escape(title)}</text>`,
    `<text x="12" y="44" fill="#555">${escape(note)}</text>`,
    ...rows,
    '</svg>',
    '',
  ].join('\n');
}

const int = (n: number) => Math.round(n).toLocaleString('en');

export function throughputChart(report: StreamReport): string {
  const bars = [...report.results].sort((a, b) => b.itemsPerSecond - a.itemsPerSecond).map((r) => ({ label: r.name, value: r.itemsPerSecond, text: `${int(r.itemsPerSecond)}/s`, ours: r.kind === 'polytask' }));
  return barChart(`Stream throughput, ${int(report.items)} trivial items, 2 processes`, 'items per second, end to end, median of the rounds (npm run bench); longer is better', bars);
}

export function memoryChart(report: MemoryReport): string {
  const bars = report.rows.map((r) => ({ label: `polytask run, ${r.handler} handler, ${int(r.items)} items`, value: r.peakTreeMb, text: `${r.peakTreeMb.toFixed(1)} MB (${r.overSmallest.toFixed(2)}x)`, ours: true }));
  return barChart('Memory against items', 'peak RSS of the whole process tree (parent and 2 children); 10x the items should not mean more memory', bars);
}

export function scalingChart(report: ScalingReport): string {
  const bars = report.rows.map((r) => ({ label: r.name.length > 62 ? `${r.name.slice(0, 59)}...` : r.name, value: r.speedup, text: `${r.speedup.toFixed(2)}x`, ours: r.kind === 'polytask' }));
  return barChart(`CPU-bound scaling, ${int(report.items)} items of about 5 ms`, 'speed-up of 2 processes over 1, wall time, start-up included; 2x is the most 2 cores give', bars);
}

/** Writes the charts of the reports there are into `dir`; returns the files written */
export function writeCharts(dir: string, reports: { stream?: StreamReport[]; memory?: MemoryReport; scaling?: ScalingReport }): string[] {
  const files: [string, string | undefined][] = [
    ['bench-throughput.svg', reports.stream?.length ? throughputChart(reports.stream[reports.stream.length - 1]!) : undefined],
    ['bench-memory.svg', reports.memory === undefined ? undefined : memoryChart(reports.memory)],
    ['bench-scaling.svg', reports.scaling === undefined ? undefined : scalingChart(reports.scaling)],
  ];
  const written: string[] = [];
  for (const [name, svg] of files) {
    if (svg === undefined) continue;
    const file = path.join(dir, name);
    writeFileSync(file, svg);
    written.push(file);
  }
  return written;
}
