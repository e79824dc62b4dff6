import type { Clock } from '../../shared/clock.js';
import type { Database, Queryable } from '../../shared/db.js';
import { AppError } from '../../shared/errors.js';
import { runIdempotent, unwrap } from '../../shared/idempotency.js';
import { MAX_CHARGE_AMOUNT, type LedgerEntryView } from './wallet.schemas.js';
import * as sql from './wallet.sql.js';

const HISTORY_LIMIT = 200;

export class WalletService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async balance(userId: string): Promise<number> {
    const row = await sql.readBalance.first(this.db, { userId });
    if (!row) throw new AppError('NOT_FOUND', 'Wallet not found.');
    return row.balance;
  }

  /** Adds money; with an Idempotency-Key a retried charge returns the first result and adds nothing. */
  async charge(userId: string, amount: number, idempotencyKey?: string): Promise<{ balance: number; replayed: boolean }> {
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_CHARGE_AMOUNT) {
      throw new AppError('VALIDATION_FAILED', `amount must be a whole number from 1 to ${MAX_CHARGE_AMOUNT}.`);
    }
    const scope = idempotencyKey
      ? { userId, scope: 'charge' as const, key: idempotencyKey, request: { amount }, now: this.clock.pinned() }
      : undefined;
    const { outcome, replayed } = await this.db.withTx((tx) =>
      runIdempotent(tx, scope, async () => {
        const credited = await sql.credit.first(tx, { userId, amount });
        if (!credited) return { ok: false, code: 'NOT_FOUND', detail: 'Wallet not found.' };
        await sql.appendLedger.count(tx, { userId, amount, kind: 'CHARGE', reference: null });
        return { ok: true, value: credited.balance };
      }),
    );
    return { balance: unwrap(outcome), replayed };
  }

  /**
   * Rule: one credit per refund (first word). Gives `amount` back for the payment `reference` within the
   * caller's transaction; the unique index on REFUND rows per reference has the last word.
   */
  async refund(tx: Queryable, userId: string, amount: number, reference: string): Promise<void> {
    if (amount === 0) return;
    await sql.credit.count(tx, { userId, amount });
    await sql.appendLedger.count(tx, { userId, amount, kind: 'REFUND', reference });
  }

  async createWallet(tx: Queryable, userId: string): Promise<void> {
    await sql.createWallet.count(tx, { userId });
  }

  async history(userId: string): Promise<LedgerEntryView[]> {
    const rows = await sql.listLedger.rows(this.db, { userId, limit: HISTORY_LIMIT });
    return rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }));
  }
}
