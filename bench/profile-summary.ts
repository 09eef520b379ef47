import { readFileSync } from 'node:fs';

/**
 * Where a server's CPU time goes, from a V8 .cpuprofile (node --cpu-prof): self time per function
 * and per area (a package, a part of Node, our own layers), plus inclusive time per area, which
 * answers "how much of the server is TypeORM" better than any single function can.
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Share {
  readonly name: string;
  readonly ms: number;
  /** Of all sampled time in the window, idle included. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly sampledMs: number;
  readonly busyPercent: number;
  readonly selfByArea: readonly Share[];
  readonly inclusiveByArea: readonly Share[];
  readonly topFunctions: readonly (Share & { readonly area: string })[];
}

/** Profile timestamps are microseconds on V8's monotonic clock. */
export interface ProfileWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

const IDLE = '(idle)';

export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(idle)') return IDLE;
    if (functionName === '(garbage collector)') return 'V8 garbage collector';
    if (functionName === '(program)') return 'V8/native (program)';
    // libuv's socket writes: on a busy machine this is also where the thread is preempted by the
    // MySQL or client thread its write just woke.
    if (/^write(Buffer|v|Utf8String|Latin1String)$/.test(functionName)) return 'native socket writes';
    return 'native';
  }
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (modules?.[1] !== undefined) return modules[1];
  const core = /^node:(?:internal\/)?([^/]+)/.exec(url);
  if (core?.[1] !== undefined) return `node:${core[1]}`;
  const ours = /\/dist\/(src|gen|bench)\/(?:([^/]+)\/)?/.exec(url);
  if (ours?.[1] === 'src') return `src/${ours[2] ?? '(root)'}`;
  if (ours?.[1] !== undefined) return ours[1];
  return 'other';
}

function locationOf(frame: CallFrame): string {
  const short = frame.url
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/dist\//, '')
    .replace(/^file:\/\//, '');
  return short === '' ? '' : `${short}:${frame.lineNumber + 1}`;
}

function ranked(totals: Map<string, number>, totalUs: number, limit: number): Share[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, ms: us / 1000, percent: (100 * us) / totalUs }));
}

export function summarizeProfile(profile: CpuProfile, window: ProfileWindow | null, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

  const selfByArea = new Map<string, number>();
  const inclusiveByArea = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const areaOfFunction = new Map<string, string>();
  let totalUs = 0;
  let idleUs = 0;
  let at = profile.startTime;
  profile.samples.forEach((nodeId, index) => {
    // A sample's delta is the time since the previous one; charge it to this sample's stack.
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (window !== null && (at < window.fromUs || at > window.toUs)) return;
    const node = byId.get(nodeId);
    if (node === undefined) return;
    totalUs += delta;
    const area = areaOf(node.callFrame);
    if (area === IDLE) idleUs += delta;
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + delta);
    const name = `${node.callFrame.functionName || '(anonymous)'} ${locationOf(node.callFrame)}`.trim();
    selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + delta);
    areaOfFunction.set(name, area);
    const seen = new Set<string>();
    for (let id: number | undefined = nodeId; id !== undefined; id = parentOf.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (frame === undefined || frame.functionName === '(root)') continue;
      seen.add(areaOf(frame));
    }
    for (const seenArea of seen) inclusiveByArea.set(seenArea, (inclusiveByArea.get(seenArea) ?? 0) + delta);
  });
  const safeTotal = Math.max(totalUs, 1);
  return {
    sampledMs: totalUs / 1000,
    busyPercent: (100 * (totalUs - idleUs)) / safeTotal,
    selfByArea: ranked(selfByArea, safeTotal, top),
    inclusiveByArea: ranked(inclusiveByArea, safeTotal, top),
    topFunctions: ranked(selfByFunction, safeTotal, top).map((share) => ({
      ...share,
      area: areaOfFunction.get(share.name) ?? 'other',
    })),
  };
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

function shareTable(title: string, shares: readonly Share[]): string {
  const rows = shares.map((share) => `| ${share.name} | ${share.ms.toFixed(0)} | ${share.percent.toFixed(1)} |`);
  return [`| ${title} | ms | % |`, '| --- | ---: | ---: |', ...rows].join('\n');
}

export function profileMarkdown(summary: ProfileSummary): string {
  const functions = summary.topFunctions.map(
    (share) =>
      `| \`${share.name.replace(/\|/g, '\\|')}\` | ${share.area} | ${share.ms.toFixed(0)} | ${share.percent.toFixed(1)} |`,
  );
  return [
    `Sampled ${(summary.sampledMs / 1000).toFixed(1)} s of the server's main thread; busy ${summary.busyPercent.toFixed(0)}% (the rest idle, waiting on the network and MySQL).`,
    '',
    shareTable('Self time by area', summary.selfByArea),
    '',
    shareTable('Inclusive time by area (stack contains it)', summary.inclusiveByArea),
    '',
    '| Top self-time functions | area | ms | % |',
    '| --- | --- | ---: | ---: |',
    ...functions,
  ].join('\n');
}

if (require.main === module) {
  const [path, topArg] = process.argv.slice(2);
  if (path === undefined) {
    process.stderr.write('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${profileMarkdown(summarizeProfile(readProfile(path), null, Number(topArg ?? 25)))}\n`);
}
