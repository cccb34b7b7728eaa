import type { View } from '@slack/web-api';
import type { PasteCodeValue } from './slack-format.js';

/**
 * The modal that takes a finish code without it ever appearing in the channel: the person
 * clicks "Paste finish code" on the approval message, Slack sends a `block_actions` payload
 * with a trigger_id, the bridge opens this view (views.open, within 3 s of the click), and
 * the submission comes back as a `view_submission` payload that only the bridge sees.
 */
export const codeModalCallbackId = 'handoff_code';
/** block_id and action_id of the input; the submitted value is `state.values.code.code.value`. */
export const codeInputId = 'code';

/** What the view carries from the click to the submission (Slack returns it untouched). */
export interface CodeModalMetadata {
  /** Canonical ref of the thread the code answers. */
  readonly thread: string;
  /** The handoff whose button opened the modal: the code goes to it and to no other. */
  readonly handoffId: string;
}

export function codeModal(value: PasteCodeValue): View {
  const metadata: CodeModalMetadata = { thread: value.thread, handoffId: value.handoffId };
  const emailed = value.answer === 'email_code';
  return {
    type: 'modal',
    callback_id: codeModalCallbackId,
    private_metadata: JSON.stringify(metadata),
    title: { type: 'plain_text', text: 'Finish the login' },
    submit: { type: 'plain_text', text: 'Send' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: emailed
            ? 'Enter the one-time code from the email. It goes to the bridge only and never appears in the channel.'
            : value.answer === 'page_code'
              ? 'Enter the code the service’s page showed after you pressed Authorize. It goes to the bridge only and never appears in the channel.'
              : 'Paste the finish code the approval page showed you. It goes to the bridge only and never appears in the channel.',
        },
      },
      {
        type: 'input',
        block_id: codeInputId,
        label: { type: 'plain_text', text: emailed ? 'One-time code' : 'Finish code' },
        element: {
          type: 'plain_text_input',
          action_id: codeInputId,
          max_length: 500,
          placeholder: { type: 'plain_text', text: emailed ? '123456' : 'aae_…' },
        },
      },
    ],
  };
}

/** Replaces the modal after a submission: the outcome appears in the thread. */
export function codeReceivedModal(): View {
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'Finish the login' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: 'Thanks. The bridge is checking the code now; the result appears in the thread.',
        },
      },
    ],
  };
}
