import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * A minimal RFC 6455 server side, enough to stand in for Slack's Socket Mode endpoint: the
 * upgrade handshake, text frames both ways (client frames are masked, ours are not),
 * fragmented messages, ping → pong, and the close handshake. @slack/socket-mode 3 connects
 * with undici's WebSocket (it no longer depends on `ws`), so this keeps the suite free of an
 * extra package.
 */
export interface WebSocketPeer {
  /** Sends one text frame. */
  send(text: string): void;
  /** Starts the close handshake (1000) and ends the socket shortly after. */
  close(code?: number): void;
  /** Drops the TCP connection without a close frame (a network failure). */
  destroy(): void;
  onMessage(listener: (text: string) => void): void;
  onClose(listener: () => void): void;
  readonly closed: boolean;
}

const guid = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const opcodes = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  let header: Buffer;
  if (length < 126) {
    header = Buffer.from([0x80 | opcode, length]);
  } else if (length < 0x10000) {
    header = Buffer.alloc(4);
    header.writeUInt16BE(length, 2);
    header[1] = 126;
  } else {
    header = Buffer.alloc(10);
    header.writeBigUInt64BE(BigInt(length), 2);
    header[1] = 127;
  }
  header[0] = 0x80 | opcode;
  return Buffer.concat([header, payload]);
}

/** Completes the upgrade of `req` on `socket` and returns the connection. */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex): WebSocketPeer {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    throw new Error('not a WebSocket upgrade');
  }
  const accept = createHash('sha1')
    .update(key + guid)
    .digest('base64');
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );

  const messageListeners: Array<(text: string) => void> = [];
  const closeListeners: Array<() => void> = [];
  let buffered = Buffer.alloc(0);
  let fragments: Buffer[] = [];
  let closed = false;
  let closeSent = false;

  const write = (opcode: number, payload: Buffer) => {
    if (!socket.destroyed && !closeSent) socket.write(frame(opcode, payload));
  };
  const finish = () => {
    if (closed) return;
    closed = true;
    for (const listener of closeListeners) listener();
  };

  function parse(): void {
    for (;;) {
      if (buffered.length < 2) return;
      const b0 = buffered[0]!;
      const b1 = buffered[1]!;
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffered.length < 4) return;
        length = buffered.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffered.length < 10) return;
        length = Number(buffered.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      const maskAt = offset;
      if (masked) offset += 4;
      if (buffered.length < offset + length) return;
      const payload = Buffer.from(buffered.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buffered[maskAt + (i % 4)]!;
      buffered = buffered.subarray(offset + length);
      handle(b0 & 0x0f, (b0 & 0x80) !== 0, payload);
    }
  }

  function handle(opcode: number, fin: boolean, payload: Buffer): void {
    switch (opcode) {
      case opcodes.text:
      case opcodes.binary:
      case opcodes.continuation:
        fragments.push(payload);
        if (fin) {
          const text = Buffer.concat(fragments).toString('utf8');
          fragments = [];
          for (const listener of messageListeners) listener(text);
        }
        return;
      case opcodes.ping:
        write(opcodes.pong, payload);
        return;
      case opcodes.pong:
        return;
      case opcodes.close:
        // Answer the client's close with ours, then end the TCP connection.
        write(opcodes.close, payload.subarray(0, 2));
        closeSent = true;
        socket.end();
        finish();
        return;
    }
  }

  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    parse();
  });
  socket.on('close', finish);
  socket.on('error', () => undefined);

  return {
    send: (text) => write(opcodes.text, Buffer.from(text, 'utf8')),
    close(code = 1000) {
      const payload = Buffer.alloc(2);
      payload.writeUInt16BE(code, 0);
      write(opcodes.close, payload);
      closeSent = true;
      setTimeout(() => socket.destroy(), 200).unref();
    },
    destroy: () => socket.destroy(),
    onMessage: (listener) => void messageListeners.push(listener),
    onClose: (listener) => void closeListeners.push(listener),
    get closed() {
      return closed;
    },
  };
}
