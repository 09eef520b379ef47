import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * The metrics page as Prometheus (or an operator with curl) reads it. Asynchronous: the server runs
 * in the test's process and must stay free to answer.
 */
export async function scrapeMetrics(port: number | null): Promise<string> {
  if (port === null) throw new Error('the service serves no metrics (METRICS_PORT=0)');
  const { stdout } = await promisify(execFile)('curl', [
    '--silent',
    '--show-error',
    '--fail',
    '--max-time',
    '10',
    `http://127.0.0.1:${port}/metrics`,
  ]);
  return stdout;
}

/** The value of one series, by its name and labels as they appear on the page. */
export function sample(page: string, series: string): number {
  const line = page.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series} in:\n${page}`);
  return Number(line.slice(series.length + 1));
}
