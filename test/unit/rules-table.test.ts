import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(`${root}docs/architecture.md`, 'utf8');
const table = doc.slice(doc.indexOf('## Where each rule lives'));
const rows = table
  .split('\n')
  .filter((line) => line.startsWith('| ') && !line.startsWith('| rule') && !line.startsWith('|---'))
  .map((line) => line.split('|').map((cell) => cell.trim()))
  .map(([, rule, decidedAt, provedBy]) => ({ rule: rule!, decidedAt: decidedAt!, provedBy: provedBy! }));

describe('docs/architecture.md › Where each rule lives', () => {
  it('lists the rules', () => {
    expect(rows.length).toBeGreaterThanOrEqual(10);
  });

  it.each(rows)('points at the line that decides "$rule", which carries its marker, and at tests that exist', ({ rule, decidedAt, provedBy }) => {
    const places = [...decidedAt.matchAll(/`([^`]+):(\d+)`/g)];
    expect(places.length, decidedAt).toBeGreaterThan(0);
    for (const [, path, line] of places) {
      const text = readFileSync(`${root}${path}`, 'utf8').split('\n')[Number(line) - 1] ?? '';
      expect(text, `${path}:${line} (npm run docs:rules points the table at the moved line)`).toContain(`Rule: ${rule}`);
    }
    for (const [, path] of provedBy.matchAll(/`(test\/[^`]+\.test\.ts)`/g)) expect(existsSync(`${root}${path}`), path).toBe(true);
  });
});
