/**
 * Writes the purchase functions into their migration (`npm run db:functions`), the newest
 * migrations/NNN_purchase_functions.sql; name a new file to start the next one:
 * `npm run db:functions -- migrations/007_purchase_functions.sql`.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { functionsMigration, functionsMigrationPath } from '../tools/purchase-functions.js';

const path = process.argv[2] ? resolve(process.argv[2]) : functionsMigrationPath();
writeFileSync(path, functionsMigration);
console.log(`wrote ${path}`);
