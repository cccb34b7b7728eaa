import { describe, expect, it } from 'vitest';
import type { Route, RouteHandler } from '../../src/core/http-route.js';
import { createRouter } from '../../src/http/router.js';

const handler: RouteHandler = async () => ({ status: 204 });
const route = (method: Route['method'], path: string): Route => ({ method, path, handler });

const routes = [
  route('POST', '/v1/handoffs'),
  route('GET', '/v1/handoffs/stats'),
  route('GET', '/v1/handoffs/:id'),
  route('DELETE', '/v1/handoffs/:id'),
  route('GET', '/v1/credentials/:id/token'),
  route('GET', '/local/threads/:name/messages/:messageId'),
  route('GET', '/health.json'),
];
const match = createRouter(routes);

describe('createRouter', () => {
  it('finds a static route with no params', () => {
    expect(match('POST', '/v1/handoffs')).toEqual({ kind: 'found', route: routes[0], params: {} });
  });

  it('captures named params', () => {
    expect(match('GET', '/v1/handoffs/hf_6f1c0a9e4b2d7c35a1e0f2b8')).toEqual({
      kind: 'found',
      route: routes[2],
      params: { id: 'hf_6f1c0a9e4b2d7c35a1e0f2b8' },
    });
    expect(match('GET', '/local/threads/demo/messages/demo.5f3a9c21')).toMatchObject({
      kind: 'found',
      route: routes[5],
      params: { name: 'demo', messageId: 'demo.5f3a9c21' },
    });
  });

  it('URI-decodes params, including an encoded slash', () => {
    expect(match('GET', '/v1/handoffs/hello%20world')).toMatchObject({ params: { id: 'hello world' } });
    expect(match('GET', '/v1/handoffs/caf%C3%A9')).toMatchObject({ params: { id: 'café' } });
    expect(match('GET', '/v1/handoffs/a%2Fb')).toMatchObject({ params: { id: 'a/b' } });
  });

  it('does not match a param across a slash', () => {
    expect(match('GET', '/v1/handoffs/a/b')).toEqual({ kind: 'none' });
  });

  it('does not find a route for a malformed escape', () => {
    const only = createRouter([route('GET', '/v1/handoffs/:id')]);
    expect(only('GET', '/v1/handoffs/%E0%A4%A')).toEqual({ kind: 'none' });
    expect(match('GET', '/v1/handoffs/%E0%A4%A').kind).not.toBe('found');
  });

  it('accepts one trailing slash', () => {
    expect(match('POST', '/v1/handoffs/')).toMatchObject({ kind: 'found', route: routes[0] });
    expect(match('GET', '/v1/credentials/cr_1/token/')).toMatchObject({ kind: 'found', params: { id: 'cr_1' } });
  });

  it('prefers the route listed first', () => {
    expect(match('GET', '/v1/handoffs/stats')).toMatchObject({ kind: 'found', route: routes[1], params: {} });
  });

  it('lists the allowed methods when only the method is wrong', () => {
    expect(match('PUT', '/v1/handoffs/hf_1')).toEqual({ kind: 'wrong_method', allowed: ['GET', 'DELETE'] });
    expect(match('GET', '/v1/handoffs')).toEqual({ kind: 'wrong_method', allowed: ['POST'] });
  });

  it('answers none for unknown paths', () => {
    for (const path of [
      '/',
      '/v1',
      '/v1/handoff',
      '/v1/handoffs/hf_1/extra',
      '/v2/handoffs',
      '/V1/handoffs',
      '/health.json.bak',
      '/healthxjson',
    ]) {
      expect(match('GET', path), path).toEqual({ kind: 'none' });
    }
  });

  it('treats regex characters in a pattern literally', () => {
    expect(match('GET', '/health.json')).toMatchObject({ kind: 'found', route: routes[6] });
  });

  it('matches nothing when there are no routes', () => {
    expect(createRouter([])('GET', '/')).toEqual({ kind: 'none' });
  });
});
