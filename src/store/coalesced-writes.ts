import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { ErrorEmitter } from 'ioredis/built/connectors/AbstractConnector.js';
import type StandaloneConnectorClass from 'ioredis/built/connectors/StandaloneConnector.js';
import type { NetStream } from 'ioredis/built/types.js';

// ioredis does not export it; required (not imported) so Node and the test runner agree on
// what a CommonJS module's `default` is.
const { default: StandaloneConnector } = createRequire(import.meta.url)(
  'ioredis/built/connectors/StandaloneConnector.js',
) as { default: typeof StandaloneConnectorClass.default };

/**
 * Commands sent on one Redis connection within one turn of the event loop leave in one write.
 *
 * ioredis writes every command to its socket at once, and each write is a system call here
 * and a read in redis-server: under load a worker spent about a fifth of its CPU in them. The
 * first write of a turn corks the socket and a setImmediate uncorks it, so everything the
 * turn's callbacks and promise continuations sent goes out as one writev. Nothing waits
 * longer than the rest of the current turn (the check phase comes right after I/O), the
 * order of commands on the connection is unchanged, and `end()` flushes what is corked.
 */
export function coalesceWrites(socket: Socket): void {
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function coalescedWrite(this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked) {
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    return write.apply(this, args);
  } as Socket['write'];
}

/**
 * ioredis's own connector for one server (TCP, TLS or a Unix socket), with coalesced writes
 * on the socket it opens. Given as the `Connector` option, so connections that ioredis or
 * BullMQ duplicate from ours, and a cluster's node connections, get it too.
 */
export class CoalescingConnector extends StandaloneConnector {
  // ioredis hands a connector the connection's whole options (ConnectorConstructor's `unknown`).
  constructor(options: unknown) {
    super(options as ConstructorParameters<typeof StandaloneConnector>[0]);
  }

  override async connect(onError: ErrorEmitter): Promise<NetStream> {
    const stream = await super.connect(onError);
    coalesceWrites(stream as Socket);
    return stream;
  }
}
