import type { MessageRef, Person, Reaction } from '../core/thread-adapter.js';
import type { OutboundMessage } from '../core/messages.js';

/**
 * What the engine needs from the queue layer, stated without BullMQ. The queue layer
 * implements these; tests of the engine wire them to the real queues too.
 */

/** Something to do on a platform, carried out by that platform's outbound queue. */
export type OutboundAction =
  | {
      readonly kind: 'post';
      readonly handoffId: string;
      /** Canonical thread ref. */
      readonly thread: string;
      readonly message: OutboundMessage;
      /** Deliver privately to this person (the adapter's postPrivately). */
      readonly to?: Person;
      /**
       * An answer to this person's click (the adapter's answerPrivately): only they see it;
       * in the thread where the platform has no private answer.
       */
      readonly answerTo?: Person;
      /** When delivery finally fails, fail the handoff with the error's code. */
      readonly critical?: boolean;
      /** The approval request: its posted id is kept on the record, to edit it later (approval-edit.ts). */
      readonly keepRef?: boolean;
    }
  | {
      /** Re-renders an approval's request message from the record as it is when the edit runs. */
      readonly kind: 'edit';
      readonly handoffId: string;
      readonly thread: string;
      /** The message to edit, when the record does not hold it (it ended before the post came back). */
      readonly message?: MessageRef;
    }
  | { readonly kind: 'react'; readonly handoffId: string; readonly message: MessageRef; readonly reaction: Reaction }
  | {
      readonly kind: 'redact';
      readonly handoffId: string;
      readonly message: MessageRef;
      /** Whom the audit entry of the redaction names (else read from the handoff when it runs). */
      readonly owner?: { readonly agentId: string; readonly correlationId: string };
    };

export interface Outbox {
  /**
   * Queues an action. `dedupeKey` makes a retried send a no-op (e.g. the approval message of
   * a handoff is queued once even if the driver runs its start step twice).
   */
  send(action: OutboundAction, options?: { dedupeKey?: string }): Promise<void>;
  /**
   * Queues several actions of one moment, sent together (one write to Redis): each its own job
   * as `send` queues it, or, on a platform that sets no outbound pace, one handoff's actions
   * as one job that runs them in the order given.
   */
  sendAll(actions: readonly OutboundAction[]): Promise<void>;
}

export interface HandoffJobs {
  /** Starts the driver job for a new handoff (once: a second start adds nothing). */
  start(handoffId: string): Promise<void>;
  /** Wakes a driver that waits as a delayed job (a poll is due, a slot came free…). */
  wake(handoffId: string): Promise<void>;
  /**
   * The handoff ended: its driver has nothing left to do. A driver waiting (delayed, or
   * queued) is dropped rather than woken to find the ending; a running one sees it and ends.
   */
  ended(handoffId: string): Promise<void>;
}
