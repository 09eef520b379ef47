import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { freePort, MariaDbServer, type ServerSettings } from './mariadb-server';

const PROVIDER = '/usr/lib/galera/libgalera_smm.so';
/** The ports the issue's trial used; others the OS picks when these are taken. */
const PREFERRED_SQL_PORTS = [3411, 3412, 3413, 3414, 3415, 3416];
/** How long a (re)started node may take to reach Synced: an SST of a small database on a loaded machine. */
const SYNC_TIMEOUT_MS = 180_000;
const POLL_MS = 200;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The four ports one node listens on. */
interface NodePorts {
  readonly sql: number;
  /** Group communication (gcomm), between the nodes. */
  readonly group: number;
  /** Incremental state transfer: the writesets a rejoining node missed. */
  readonly ist: number;
  /** Full state transfer (rsync daemon) when the missed writesets are no longer cached. */
  readonly sst: number;
}

/**
 * What docs/scaling.md asks of a Galera node for this service, sized small for a shared machine:
 * row-based replication, interleaved auto-increment locks, InnoDB, and the redo log flushed at
 * every commit as on a single server (a node killed alone keeps what it acknowledged even before
 * its peers applied it).
 */
function nodeSettings(name: string, self: NodePorts, all: readonly NodePorts[]): ServerSettings {
  return {
    'wsrep-on': 'ON',
    'wsrep-provider': PROVIDER,
    'wsrep-cluster-name': 'giftcard-test',
    'wsrep-cluster-address': `gcomm://${all.map((ports) => `127.0.0.1:${ports.group}`).join(',')}`,
    'wsrep-node-name': name,
    'wsrep-node-address': `127.0.0.1:${self.group}`,
    'wsrep-node-incoming-address': `127.0.0.1:${self.sql}`,
    'wsrep-provider-options':
      `gmcast.listen_addr=tcp://127.0.0.1:${self.group};ist.recv_addr=127.0.0.1:${self.ist};` +
      // A killed node is declared gone within a few seconds, not the default's tens of seconds
      // of a wide-area cluster.
      'gcache.size=64M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT6S',
    'wsrep-sst-method': process.env.GALERA_SST_METHOD ?? 'mariabackup',
    'wsrep-sst-receive-address': `127.0.0.1:${self.sst}`,
    'binlog-format': 'ROW',
    'default-storage-engine': 'InnoDB',
    'innodb-autoinc-lock-mode': 2,
    'innodb-flush-log-at-trx-commit': 1,
    'innodb-doublewrite': 1,
    'innodb-buffer-pool-size': '64M',
    'innodb-log-file-size': '48M',
    'performance-schema': 'OFF',
    'max-connections': 200,
  };
}

/**
 * A private three-node MariaDB Galera cluster on this machine: each node a MariaDbServer of its
 * own (temp data directory, own ports), joined by gcomm on loopback. Nodes can be SIGKILLed and
 * restarted one at a time; a restarted node catches up by IST (or SST) before it counts as back.
 */
export class GaleraCluster {
  private constructor(readonly nodes: readonly MariaDbServer[]) {}

  static async create(size = 3): Promise<GaleraCluster> {
    const taken: number[] = [];
    const ports: NodePorts[] = [];
    for (let i = 0; i < size; i++) {
      const pick = async (preferred: readonly number[] = []): Promise<number> => {
        const port = await freePort(taken, preferred);
        taken.push(port);
        return port;
      };
      ports.push({ sql: await pick(PREFERRED_SQL_PORTS), group: await pick(), ist: await pick(), sst: await pick() });
    }
    const nodes: MariaDbServer[] = [];
    try {
      for (const [i, own] of ports.entries()) {
        nodes.push(await MariaDbServer.install(nodeSettings(`node${i + 1}`, own, ports), [], [own.sql]));
      }
      const cluster = new GaleraCluster(nodes);
      const [first, ...rest] = nodes;
      if (first === undefined) throw new Error('a cluster needs a node');
      // The joiners start from a copy of the first node's data, stopped cleanly: they join at its
      // position with nothing to transfer, so no state-transfer script (SST) has to run.
      await first.start(['--wsrep-new-cluster']);
      await cluster.waitSynced(0);
      await first.stop();
      for (const node of rest) {
        rmSync(join(node.directory, 'data'), { recursive: true, force: true });
        cpSync(join(first.directory, 'data'), join(node.directory, 'data'), { recursive: true });
        const grastate = join(node.directory, 'data', 'grastate.dat');
        writeFileSync(grastate, readFileSync(grastate, 'utf8').replace(/safe_to_bootstrap: 1/, 'safe_to_bootstrap: 0'));
      }
      await first.start(['--wsrep-new-cluster']);
      await cluster.waitSynced(0);
      for (const node of rest) {
        await node.start();
        await cluster.waitSynced(nodes.indexOf(node));
      }
      return cluster;
    } catch (error) {
      if (process.env.GALERA_DEBUG) console.log(nodes[0]?.errorLog(6000));
      for (const node of nodes) await node.destroy();
      throw error;
    }
  }

  /** `mysql://root@node1,node2,node3/database`, starting from node `first` and wrapping round. */
  url(database: string, first = 0): string {
    const order = this.nodes.map((_, i) => this.nodes[(first + i) % this.nodes.length] as MariaDbServer);
    return `mysql://root@${order.map((node) => `127.0.0.1:${node.port}`).join(',')}/${database}`;
  }

  node(index: number): MariaDbServer {
    const node = this.nodes[index];
    if (node === undefined) throw new Error(`no node ${index}`);
    return node;
  }

  /**
   * Restarts a killed node and waits until it has caught up with the others. As mysqld_safe does,
   * it first recovers the last position InnoDB committed (a kill leaves grastate.dat at seqno -1),
   * so the node asks its peers for just the writesets it missed (IST) instead of a full copy.
   */
  async restart(index: number): Promise<void> {
    const node = this.node(index);
    const [, position] = await node.runUntilLogged(
      ['--wsrep-recover'],
      /WSREP: Recovered position: ([0-9a-f-]+:-?\d+)/,
    );
    await node.start(position === undefined ? [] : [`--wsrep-start-position=${position}`]);
    await this.waitSynced(index);
  }

  /** Polls until the node is ready for writes and Synced (not joining, not a blocked donor). */
  async waitSynced(index: number): Promise<void> {
    const node = this.node(index);
    const giveUpAt = Date.now() + SYNC_TIMEOUT_MS;
    for (;;) {
      if ((await statusOf(node)) === 'Synced') return;
      if (Date.now() > giveUpAt) {
        throw new Error(`node on port ${node.port} not Synced within ${SYNC_TIMEOUT_MS} ms:\n${node.errorLog()}`);
      }
      await sleep(POLL_MS);
    }
  }

  async destroy(): Promise<void> {
    for (const node of this.nodes) await node.destroy();
  }
}

async function statusOf(node: MariaDbServer): Promise<string | null> {
  try {
    const connection = await node.connect();
    try {
      const [rows] = await connection.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'");
      const [ready] = await connection.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'wsrep_ready'");
      return ready[0]?.Value === 'ON' ? String(rows[0]?.Value) : null;
    } finally {
      connection.destroy();
    }
  } catch {
    return null;
  }
}
