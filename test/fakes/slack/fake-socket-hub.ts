import { randomUUID } from 'node:crypto';
import type { WebSocketPeer } from './websocket-server.js';

/**
 * Slack's side of Socket Mode: greets each connection with `hello`, pushes envelopes
 * (`events_api`, `interactive`) and collects the client's acks (`{envelope_id, payload}`).
 * Envelopes go to the newest open connection, as Slack sends each one to one connection.
 */
export interface SocketAck {
  readonly envelope_id: string;
  readonly payload?: Record<string, unknown>;
}

export interface FakeSocketHub {
  /** Open connections right now. */
  openConnections(): number;
  /** Total connections ever accepted. */
  readonly accepted: number;
  /** Sends an envelope; resolves with the client's ack, or undefined after `timeoutMs`. */
  send(envelope: Record<string, unknown>, timeoutMs?: number): Promise<SocketAck | undefined>;
  /** An `events_api` envelope around an Events API body (as Slack frames it). */
  eventsApi(body: Record<string, unknown>, retryAttempt?: number): Record<string, unknown>;
  /** An `interactive` envelope around an interaction payload. */
  interactive(payload: Record<string, unknown>): Record<string, unknown>;
  readonly acks: SocketAck[];
  /** Tells the client to reconnect, as Slack does before it drops a connection. */
  sendDisconnect(reason?: string): void;
  connected(peer: WebSocketPeer): void;
  closeAll(): void;
}

export function createFakeSocketHub(): FakeSocketHub {
  const peers: WebSocketPeer[] = [];
  const acks: SocketAck[] = [];
  const waiting = new Map<string, (ack: SocketAck) => void>();
  let accepted = 0;
  const open = () => peers.filter((p) => !p.closed);

  return {
    openConnections: () => open().length,
    get accepted() {
      return accepted;
    },
    acks,
    connected(peer) {
      accepted += 1;
      peers.push(peer);
      peer.onMessage((text) => {
        const ack = JSON.parse(text) as SocketAck;
        acks.push(ack);
        waiting.get(ack.envelope_id)?.(ack);
      });
      peer.send(
        JSON.stringify({
          type: 'hello',
          num_connections: open().length,
          debug_info: { host: 'applink-fake-7d9f8c6b5-x2k4p', build_number: 118, approximate_connection_time: 18060 },
          connection_info: { app_id: 'A0FAKE0001' },
        }),
      );
    },
    send(envelope, timeoutMs = 5_000) {
      const peer = open().at(-1);
      if (!peer) return Promise.reject(new Error('no Socket Mode connection is open'));
      const id = String(envelope.envelope_id);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve(undefined);
        }, timeoutMs);
        waiting.set(id, (ack) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(ack);
        });
        peer.send(JSON.stringify(envelope));
      });
    },
    eventsApi(body, retryAttempt = 0) {
      return {
        envelope_id: randomUUID(),
        payload: body,
        type: 'events_api',
        accepts_response_payload: false,
        retry_attempt: retryAttempt,
        retry_reason: retryAttempt > 0 ? 'timeout' : '',
      };
    },
    interactive(payload) {
      return {
        envelope_id: randomUUID(),
        payload,
        type: 'interactive',
        accepts_response_payload: payload.type === 'view_submission',
      };
    },
    sendDisconnect(reason = 'refresh_requested') {
      open()
        .at(-1)
        ?.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake-7d9f8c6b5-x2k4p' } }));
    },
    closeAll() {
      for (const peer of open()) peer.destroy();
    },
  };
}
