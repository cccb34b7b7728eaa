import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP server that accepts every connection and never answers a byte: the service that
 * hangs. Connections are counted and held until `close()`, which destroys them (so whatever
 * still waits on one fails at once).
 */
export interface HangingServer {
  readonly origin: string;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startHangingServer(host = '127.0.0.1'): Promise<HangingServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume(); // read and ignore the request
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    origin: `http://${host}:${(server.address() as AddressInfo).port}`,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
