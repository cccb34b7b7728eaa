import { approvalPart } from './approval-part.js';
import { approveOnlyPart } from './approve-only-part.js';
import type { RunnablePart } from './bench-part.js';
import { cliLoginPart } from './cli-login-part.js';
import { fairnessPart } from './fairness-part.js';
import { burstPart, feedResumePart, latencyPart } from './flow-parts.js';
import { memoryPart } from './memory-part.js';
import { processesPart } from './processes-part.js';
import { timersPart } from './timers-part.js';
import { discoveryPart, githubPart, linearPart, linearPostPart, slackPart } from './platform-parts.js';
import { slackClickPart } from './slack-click-part.js';

/** Every part of `npm run bench`, in the order they run. Add a new figure here. */
export const benchParts: readonly RunnablePart[] = [
  latencyPart,
  feedResumePart,
  burstPart,
  memoryPart,
  timersPart,
  fairnessPart,
  approvalPart,
  approveOnlyPart,
  discoveryPart,
  slackPart,
  slackClickPart,
  githubPart,
  linearPart,
  linearPostPart,
  cliLoginPart,
  processesPart,
];
