import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payability, payabilitySql } from '../../src/modules/reservation/reservation.rules.js';
import type { ReservationStatus } from '../../src/modules/reservation/reservation.schemas.js';
import type { Database } from '../../src/shared/db.js';
import { createPgliteDatabase } from '../../src/shared/db.pglite.js';
import { statement } from '../../src/shared/sql.js';
import { functionsMigration, functionsMigrationPath } from '../../tools/purchase-functions.js';

describe('the purchase functions (purchase_hold, purchase_pay)', () => {
  it('are installed by the newest NNN_purchase_functions.sql exactly as the code renders them (npm run db:functions)', () => {
    expect(readFileSync(functionsMigrationPath(), 'utf8')).toBe(functionsMigration);
  });

  describe('payabilitySql, the payment function’s verdict', () => {
    let db: Database;
    beforeAll(async () => {
      db = await createPgliteDatabase();
    });
    afterAll(() => db.close());

    const verdict = statement<{ status: string; expiresAt: Date; now: Date }, { verdict: string }>(
      `SELECT ${payabilitySql(':status::text', ':expiresAt::timestamptz')} AS verdict`,
    );
    const T0 = new Date('2026-12-01T10:00:00.000Z');
    const cases = (['PENDING', 'CONFIRMED', 'CANCELED', 'EXPIRED'] as ReservationStatus[]).flatMap((status) =>
      [-1, 0, 1].map((offsetMs) => ({ status, offsetMs })),
    );

    it.each(cases)('agrees with payability() for a $status reservation whose deadline is $offsetMs ms from now', async ({ status, offsetMs }) => {
      const expiresAt = new Date(T0.getTime() + offsetMs);
      const row = await verdict.first(db, { status, expiresAt, now: T0 });
      expect(row?.verdict).toBe(payability(status, expiresAt, T0));
    });
  });
});
