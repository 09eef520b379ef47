import { createServer } from 'node:net';

/**
 * A TCP port the OS reports free right now. Others run servers on this machine, so the bench
 * never assumes a fixed port; the tiny window before the server binds it is an accepted risk.
 */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => {
        if (port === 0) reject(new Error('the OS reported no port'));
        else resolve(port);
      });
    });
  });
}
