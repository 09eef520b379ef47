import cluster from 'node:cluster';

/**
 * Several server processes on one port: a cluster primary forks BENCH_CLUSTER_WORKERS copies of
 * BENCH_CLUSTER_SCRIPT (the service's dist/src/main.js, or the no-op server), which share the
 * listening socket. The primary hands out connections round-robin, so the load generators open
 * several HTTP/2 connections for it to spread. SIGTERM is passed on to every worker.
 */
function main(): void {
  const script = process.env.BENCH_CLUSTER_SCRIPT;
  const workers = Number(process.env.BENCH_CLUSTER_WORKERS);
  if (script === undefined || !Number.isInteger(workers) || workers < 1) {
    throw new Error('BENCH_CLUSTER_SCRIPT and BENCH_CLUSTER_WORKERS must be set');
  }
  cluster.setupPrimary({ exec: script, execArgv: process.execArgv });
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      process.stderr.write(`cluster worker ${worker.process.pid} died (code ${code}, signal ${signal}); stopping\n`);
      stop(1);
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(process.exitCode ?? 0);
  });
  const stop = (exitCode: number): void => {
    stopping = true;
    process.exitCode = exitCode;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => {
    stop(0);
  });
  process.on('SIGINT', () => {
    stop(0);
  });
}

main();
