/**
 * Points every `file:line` of docs/architecture.md's "Where each rule lives" table at the line that now
 * carries its `Rule: <rule>` marker, after edits moved it (`npm run docs:rules`). The unit test
 * test/unit/rules-table.test.ts fails until this has been run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const docPath = `${root}docs/architecture.md`;
const doc = readFileSync(docPath, 'utf8');
const start = doc.indexOf('## Where each rule lives');
const fixed = doc
  .slice(start)
  .split('\n')
  .map((line) => {
    if (!line.startsWith('| ') || line.startsWith('| rule')) return line;
    const rule = line.split('|')[1]!.trim();
    return line.replace(/`([^`]+):(\d+)`/g, (_match, path: string) => {
      const lines = readFileSync(`${root}${path}`, 'utf8').split('\n');
      const found = lines.flatMap((text, index) => (text.includes(`Rule: ${rule}`) ? [index + 1] : []));
      if (found.length !== 1) throw new Error(`${path}: ${found.length} lines carry "Rule: ${rule}"`);
      return `\`${path}:${found[0]}\``;
    });
  })
  .join('\n');
writeFileSync(docPath, doc.slice(0, start) + fixed);
