import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { sealLoginSecret } from '../../src/engine/login-secret.js';
import { decodeRecord, encodePatch, encodeRecord } from '../../src/store/handoff-codec.js';
import { createKeys } from '../../src/store/keys.js';
import { createVault } from '../../src/store/vault.js';

const hour = 3_600_000;
const createdAt = 1_796_281_613_832;
const service = 'http://127.0.0.1:45035/sandbox';
// Sealing touches no Redis.
const vault = createVault({ redis: undefined as never, keys: createKeys('codec'), key: randomBytes(32) });

/** A login waiting for its approver as the `timers` bench parks 100,000 of them (issue #14 item 8). */
const waitingWithTimers = (): HandoffRecord => ({
  id: 'hf_bf076cf044a50276b308daf6',
  kind: 'login',
  status: 'awaiting_human',
  version: 3,
  service,
  serviceName: 'Sandbox Analytics',
  serviceLogoUrl: `${service}/logo.svg`,
  serviceExpiresAt: createdAt + 4 * hour,
  protocol: 'agent-sessions',
  thread: 'local:wait-99999',
  approvers: ['alice'],
  agentId: 'bench-agent-7',
  correlationId: 'wait-99999',
  scopes: [],
  createdAt,
  updatedAt: createdAt + 10_398,
  expiresAt: createdAt + 3 * hour,
  approvalUrl: `${service}/authorize/ar_e32e91be7f2822fa58c11daa`,
  answer: 'finish_code',
  attempts: 0,
  pollIntervalMs: hour,
  nextPollAt: createdAt + hour + 10_364,
  activeUntil: createdAt + 190_364,
  sealedSecret: sealLoginSecret(vault, 'hf_bf076cf044a50276b308daf6', {
    authRequestId: 'ar_e32e91be7f2822fa58c11daa',
    pollToken: `aap_${randomBytes(24).toString('hex')}`,
    codeVerifier: randomBytes(32).toString('hex'),
    service,
  }),
  remind: { afterMs: 2 * hour, everyMs: 15 * 60_000, max: 3 },
  remindAt: createdAt + 2 * hour,
  warnBeforeMs: 5 * 60_000,
  escalate: [{ afterMs: 2.5 * hour, approvers: ['oncall-ann', 'oncall-ben'], thread: 'local:oncall' }],
});

describe('the stored handoff record', () => {
  it('keeps a waiting login with reminders, escalation and the expiry warning in an 896-byte allocation', () => {
    const record = waitingWithTimers();
    const stored = encodeRecord(record);
    // Redis keeps a string of 256+ bytes with a 5-byte header and a NUL; jemalloc's classes
    // step by 128 bytes here (896, 1,024, 1,280). Past 890 characters every waiting handoff
    // costs 128 B more, past 1,018 256 B more (the record was 1,073 characters before).
    expect(stored.length).toBeLessThanOrEqual(890);
    expect(decodeRecord(stored)).toEqual(record);
  });

  it('stores the timer plans as arrays and the first reminder as the plan says, and reads them back', () => {
    const record = waitingWithTimers();
    const stored = JSON.parse(encodeRecord(record)) as Record<string, unknown>;
    expect(stored).toMatchObject({
      rP: [2 * hour, 15 * 60_000, 3],
      eP: [[2.5 * hour, ['oncall-ann', 'oncall-ben'], 'local:oncall']],
    });
    expect(stored).not.toHaveProperty('rA');
    expect(JSON.stringify(stored)).not.toContain('afterMs');

    // A reminder late or moved is stored as it is; so is the next one after the first was sent.
    const late = { ...record, remindAt: createdAt + 2 * hour + 1 };
    expect(JSON.parse(encodeRecord(late))).toHaveProperty('rA', createdAt + 2 * hour + 1);
    expect(decodeRecord(encodeRecord(late))).toEqual(late);
    const reminded = { ...record, reminded: 1, remindAt: createdAt + 2 * hour };
    expect(decodeRecord(encodeRecord(reminded))).toEqual(reminded);
    // After the last, no reminder is due: none is made up from the plan.
    const { remindAt: _gone, ...done } = { ...record, reminded: 3 };
    expect(decodeRecord(encodeRecord(done))).toEqual(done);

    const stepWithoutThread = { ...record, escalate: [{ afterMs: hour, approvers: ['olga'] }] };
    expect(decodeRecord(encodeRecord(stepWithoutThread))).toEqual(stepWithoutThread);
  });

  it('writes plans in a patch in the stored form', () => {
    const { set } = encodePatch({
      remind: { afterMs: hour, everyMs: hour, max: 2 },
      escalate: [{ afterMs: hour, approvers: ['olga'] }],
      remindAt: createdAt,
    });
    expect(JSON.parse(set)).toEqual({ rP: [hour, hour, 2], eP: [[hour, ['olga']]], rA: createdAt });
  });

  it('reads a record written with the plans as objects', () => {
    const record = waitingWithTimers();
    const legacy = JSON.parse(encodeRecord(record)) as Record<string, unknown>;
    legacy.rP = record.remind;
    legacy.eP = record.escalate;
    legacy.rA = record.remindAt;
    expect(decodeRecord(JSON.stringify(legacy))).toEqual(record);
    // An empty approver list comes back from Lua's cjson as `{}`.
    legacy.eP = [[hour, {}]];
    expect(decodeRecord(JSON.stringify(legacy))?.escalate).toEqual([{ afterMs: hour, approvers: [] }]);
  });
});
