import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NGINX_TEMPLATE, renderConfig } from '../../tools/nginx.js';

/** The tests run behind deploy/nginx/ticketing.conf only if rendering changes nothing but addresses and paths. */
describe('rendering deploy/nginx/ticketing.conf for a test run', () => {
  const template = readFileSync(NGINX_TEMPLATE, 'utf8');
  const rendered = renderConfig(template, { upstreams: ['127.0.0.1:4001', '127.0.0.1:4002'], listen: '127.0.0.1:4000', logDir: '/tmp/x/logs' });
  // `name value…;` lines; `server {` opens a block and is not one.
  const directive = (text: string, name: string) => text.split('\n').filter((line) => new RegExp(`^\\s*${name}\\s+[^{\\s]`).test(line));

  it('swaps the upstream servers (keeping their parameters), the listen address and the log directory', () => {
    const parameters = directive(template, 'server')[0]!.replace(/^\s*server\s+[^\s;]+/, '').replace(/;.*/, '');
    expect(directive(rendered, 'server').map((line) => line.trim())).toEqual([
      `server 127.0.0.1:4001${parameters};`,
      `server 127.0.0.1:4002${parameters};`,
    ]);
    expect(directive(rendered, 'listen').map((line) => line.trim())).toEqual(['listen 127.0.0.1:4000;']);
    expect(rendered).not.toContain('/var/log/nginx/');
    expect(rendered).toContain('access_log /tmp/x/logs/ticketing.access.log ticketing;');
  });

  it('leaves every other line as committed', () => {
    const untouched = (text: string) => text.split('\n').filter((line) => !/^\s*(server|listen)\s+[^{\s]/.test(line) && !line.includes('/log'));
    expect(untouched(rendered)).toEqual(untouched(template));
  });

  it('fails loudly when the file no longer has what it replaces', () => {
    const options = { upstreams: ['127.0.0.1:1'], listen: '127.0.0.1:2', logDir: '/tmp' };
    expect(() => renderConfig(template.replace(/^\s*listen .*$/gm, ''), options)).toThrow(/listen/);
    expect(() => renderConfig(template.replace(/^upstream/m, 'upstreamx'), options)).toThrow(/upstream/);
  });
});
