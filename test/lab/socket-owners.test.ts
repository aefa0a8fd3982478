// Who serves an address, by the kernel's word: /proc/net/tcp's listening sockets bound to
// it and the process whose descriptors hold them.
import assert from 'node:assert/strict';
import net from 'node:net';
import { listenerInodes, ownsSocket, procNetAddress } from '../../src/lab/socket-owners';

describe('listener owners', () => {
  it("writes an IPv4 endpoint as /proc/net/tcp does (the address's bytes reversed, in hex)", () => {
    assert.equal(procNetAddress('127.0.0.100', 8080), '6400007F:1F90');
    assert.equal(procNetAddress('10.1.2.3', 80), '0302010A:0050');
  });

  it('finds the listener this process holds on an address, and no other process holding it', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.77', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const inodes = await listenerInodes({ host: '127.0.0.77', port });
      assert.equal(inodes.size, 1);
      assert.equal(await ownsSocket(process.pid, inodes), true);
      assert.equal(await ownsSocket(1, inodes), false);
      assert.equal((await listenerInodes({ host: '127.0.0.78', port })).size, 0);
    } finally {
      server.close();
    }
  });
});
