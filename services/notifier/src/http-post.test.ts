import { Agent } from 'node:http';
import { describe, expect, it } from 'vitest';
import { postWebhook } from './http-post';

describe('postWebhook', () => {
  it('turns a request Node refuses to build into a failed attempt, never a throw', async () => {
    const agent = new Agent();
    const r = await postWebhook({
      // never sent: the header below is refused while the request is built
      url: new URL('http://127.0.0.1:9/hook'),
      headers: { 'webhook-id': 'bad\nvalue' },
      body: '{}',
      agent,
      timeoutMs: 1000,
    });
    agent.destroy();
    expect(r.statusCode).toBeUndefined();
    expect(r.error).toMatch(/header/i);
  });
});
