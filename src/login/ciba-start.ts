import { randomInt } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { describeDuration, type Clock } from '../core/clock.js';
import type { CibaLoginHint } from '../core/config-ciba-hints.js';
import { BadInputError } from '../core/errors.js';
import type { LoginRequest, Started } from '../core/login-protocol.js';
import { say, value, words } from '../core/sentence.js';
import { readAcknowledgement, translateCibaError, type Acknowledgement } from './ciba-answers.js';
import { authorizationServer, type CibaEndpoints } from './ciba-endpoints.js';
import { loginHintFor } from './ciba-login-hint.js';
import type { CibaSecret } from './ciba-secret.js';

/**
 * A CIBA login's start (CIBA Core §7): the approver's email checked, the backchannel
 * authentication request that names them (`login_hint`, in the form the server wants) with the
 * short `binding_message` their device and the thread both show, and the server's acknowledgement
 * turned into the sealed secret and the note for the thread.
 */
export interface CibaStartDeps {
  readonly clock: Clock;
  /** How each server (by origin) wants the approver named (`HANDOFF_CIBA_LOGIN_HINTS`); default the email. */
  readonly loginHints?: Readonly<Record<string, CibaLoginHint>>;
  /** The binding message's code (tests fix it); default 8 random letters and digits. */
  readonly bindingCode?: () => string;
}

/** Letters and digits that read unambiguously on a phone (no 0/O, 1/I/L). */
const bindingAlphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function randomBindingCode(): string {
  let code = '';
  for (let i = 0; i < 8; i++) code += bindingAlphabet[randomInt(0, bindingAlphabet.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** An email the bridge will send as `login_hint`: one address, no spaces or control characters, RFC 5321's length. */
// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const plainEmail = /^[^\s@<>()[\]\\,;:"\x00-\x1f\x7f]{1,64}@[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/i;

/** The approver's email, or the specific refusal when there is none or it is not one plain address. */
function approverEmail(req: LoginRequest): string {
  const email = req.approverEmail?.trim();
  if (!email) {
    throw new BadInputError(
      'This service asks the approver on their own device and needs to know who they are: pass approverEmail. (An approver’s email from the platform directory is sent only to services the operator lists in HANDOFF_APPROVER_EMAIL_SERVICES.)',
      { code: 'approver_email_required', details: { field: 'approverEmail' } },
    );
  }
  if (!plainEmail.test(email)) {
    throw new BadInputError('approverEmail must be one plain email address to send to the service as login_hint.', {
      code: 'invalid_approver_email',
      details: { field: 'approverEmail' },
    });
  }
  return email;
}

export async function startCibaLogin(
  deps: CibaStartDeps,
  endpoints: CibaEndpoints,
  req: LoginRequest,
): Promise<Started> {
  const email = approverEmail(req);
  const { ciba, clientOrigin, authorizationServer: asBase } = await endpoints.discovered(req.service, req);
  const { client, auth } = await endpoints.clientFor(clientOrigin, ciba);
  const loginHint = loginHintFor(deps.loginHints ?? {}, clientOrigin, ciba.issuer, email);
  const as = authorizationServer(ciba);
  const bindingMessage = `Handoff ${(deps.bindingCode ?? randomBindingCode)()}`;
  let ack: Acknowledgement;
  try {
    const response = await oauth.backchannelAuthenticationRequest(
      as,
      client,
      auth,
      {
        // CIBA Core §7.1: scope must contain openid.
        scope: ['openid', ...req.scopes.filter((s) => s !== 'openid')].join(' '),
        login_hint: loginHint,
        binding_message: bindingMessage,
      },
      endpoints.options(req),
    );
    // Errors through oauth4webapi (it reads the OAuth error body); a success read leniently here.
    if (response.status !== 200) await oauth.processBackchannelAuthenticationResponse(as, client, response);
    ack = readAcknowledgement(await response.json().catch(() => undefined));
  } catch (err) {
    throw translateCibaError(err, 'backchannel authentication request');
  }
  const { authReqId, intervalMs, lifetimeMs } = ack;
  const secret: CibaSecret = {
    authReqId,
    intervalMs,
    issuer: ciba.issuer,
    backchannelAuthenticationEndpoint: ciba.backchannelAuthenticationEndpoint,
    tokenEndpoint: ciba.tokenEndpoint,
    authMethods: [...ciba.authMethods],
    signingAlgs: [...ciba.signingAlgs],
    ...(ciba.revocationEndpoint ? { revocationEndpoint: ciba.revocationEndpoint } : {}),
    ...(ciba.userinfoEndpoint ? { userinfoEndpoint: ciba.userinfoEndpoint } : {}),
    clientOrigin,
    loginHint: email.toLowerCase(),
    service: req.service,
    ...(asBase ? { authorizationServer: asBase } : {}),
  };
  return {
    expiresAt: deps.clock.now() + lifetimeMs,
    answer: 'done',
    secret,
    pollIntervalMs: intervalMs,
    ...(asBase ? { authorizationServer: asBase } : {}),
    // Our own binding message, never anything the service echoed back.
    note: say`The device should show ${value(bindingMessage)}: approve only if it does. The request works for ${words(describeDuration(lifetimeMs))}; the bridge checks with the service every ${words(describeDuration(intervalMs))}.`,
  };
}
