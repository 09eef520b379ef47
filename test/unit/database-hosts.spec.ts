import { Socket } from 'node:net';
import { loadConfig } from '../../src/config';
import { DatabaseEndpoints, DatabaseHostSelector } from '../../src/persistence/database-hosts';

describe('DATABASE_URL with several hosts (issue 19)', () => {
  it('names one server as before, port 3306 when none is given', () => {
    const endpoints = DatabaseEndpoints.parse('mysql://app:secret@db.internal/giftcard');
    expect(endpoints.hosts).toEqual([{ host: 'db.internal', port: 3306 }]);
    expect(endpoints.urlOf(0)).toBe('mysql://app:secret@db.internal:3306/giftcard');
  });

  it('names the nodes of a cluster separated by commas; each keeps the user, password, database and options', () => {
    const endpoints = DatabaseEndpoints.parse(
      'mysql://app:p%40ss@10.0.0.1:3411,10.0.0.2:3412,[::1]:3413/giftcard?ssl=x',
    );
    expect(endpoints.hosts).toEqual([
      { host: '10.0.0.1', port: 3411 },
      { host: '10.0.0.2', port: 3412 },
      { host: '::1', port: 3413 },
    ]);
    expect(endpoints.urlOf(1)).toBe('mysql://app:p%40ss@10.0.0.2:3412/giftcard?ssl=x');
    expect(endpoints.urlOf(2)).toBe('mysql://app:p%40ss@[::1]:3413/giftcard?ssl=x');
  });

  it('names hosts in logs without the user or password', () => {
    const endpoints = DatabaseEndpoints.parse('mysql://app:secret@a:1,b:2/giftcard');
    expect([endpoints.nameOf(0), endpoints.nameOf(1)]).toEqual(['a:1', 'b:2']);
  });

  it.each([
    ['an empty host in the list', 'mysql://root@a:3306,,b:3306/giftcard'],
    ['a port that is not a number', 'mysql://root@a:33x6/giftcard'],
    ['a port out of range', 'mysql://root@a:70000/giftcard'],
    ['another scheme', 'postgres://root@a:5432/giftcard'],
  ])('is refused at start with %s', (_what, url) => {
    expect(() => loadConfig({ DATABASE_URL: url })).toThrow(/DATABASE_URL/);
  });
});

describe('The host selector every pool connects through', () => {
  const selector = () =>
    new DatabaseHostSelector(DatabaseEndpoints.parse('mysql://root@127.0.0.1:1,127.0.0.1:2,127.0.0.1:3/x'));

  it('tries the hosts after the one in use, wrapping round', () => {
    const hosts = selector();
    hosts.moveTo(1);
    expect(hosts.failoverOrder()).toEqual([1, 2, 0]);
  });

  it('moves new connections to the next host when a connect to the one in use is refused', async () => {
    const hosts = selector();
    const moves: number[] = [];
    hosts.onMove((index) => moves.push(index));
    const socket = hosts.connect();
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('close', resolve));
    expect(hosts.inUse).toBe(1);
    expect(moves).toEqual([1]);
  });

  it('closes the sockets still open to the node it leaves', () => {
    const hosts = selector();
    const socket = hosts.connect();
    socket.on('error', () => undefined);
    hosts.moveTo(2);
    expect(socket).toBeInstanceOf(Socket);
    expect(socket.destroyed).toBe(true);
  });
});
