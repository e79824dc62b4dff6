import type { Clock } from '../../shared/clock.js';
import type { Database, Queryable } from '../../shared/db.js';
import { AppError } from '../../shared/errors.js';
import { runIdempotent, unwrap } from '../../shared/idempotency.js';
import * as sql from './wallet.sql.js';

export type LedgerKind = 'CHARGE' | 'PAYMENT' | 'REFUND';

export interface LedgerEntryView {
  id: number;
  amount: number;
  kind: LedgerKind;
  reference: string | null;
  createdAt: string;
}

/** The largest single charge, in minor units (100,000.00). */
export const MAX_CHARGE_AMOUNT = 10_000_000;
const HISTORY_LIMIT = 200;

export class WalletService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async balance(userId: string): Promise<number> {
    const { rows } = await this.db.query<{ balance: number }>(sql.readBalance, [userId]);
    if (!rows[0]) throw new AppError('NOT_FOUND', 'Wallet not found.');
    return rows[0].balance;
  }

  /** Adds money; with an Idempotency-Key a retried charge returns the first result and adds nothing. */
  async charge(userId: string, amount: number, idempotencyKey?: string): Promise<{ balance: number; replayed: boolean }> {
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_CHARGE_AMOUNT) {
      throw new AppError('VALIDATION_FAILED', `amount must be a whole number from 1 to ${MAX_CHARGE_AMOUNT}.`);
    }
    const scope = idempotencyKey
      ? { userId, scope: 'charge' as const, key: idempotencyKey, request: { amount }, now: this.clock.now() }
      : undefined;
    const { outcome, replayed } = await this.db.withTx((tx) =>
      runIdempotent(tx, scope, async () => {
        const { rows } = await tx.query<{ balance: number }>(sql.credit, [userId, amount]);
        if (!rows[0]) return { ok: false, code: 'NOT_FOUND', detail: 'Wallet not found.' };
        await tx.query(sql.appendLedger, [userId, amount, 'CHARGE', null]);
        return { ok: true, value: rows[0].balance };
      }),
    );
    return { balance: unwrap(outcome), replayed };
  }

  /** Takes `amount` within the caller's transaction; false when the balance is short (nothing changes). */
  async debit(tx: Queryable, userId: string, amount: number, reference: string): Promise<boolean> {
    if (amount === 0) return true;
    const { rowCount } = await tx.query(sql.debit, [userId, amount]);
    if (rowCount === 0) return false;
    await tx.query(sql.appendLedger, [userId, -amount, 'PAYMENT', reference]);
    return true;
  }

  async createWallet(tx: Queryable, userId: string): Promise<void> {
    await tx.query(sql.createWallet, [userId]);
  }

  async history(userId: string): Promise<LedgerEntryView[]> {
    const { rows } = await this.db.query<{ id: number; amount: number; kind: LedgerKind; reference: string | null; created_at: Date }>(
      sql.listLedger,
      [userId, HISTORY_LIMIT],
    );
    return rows.map((row) => ({
      id: row.id,
      amount: row.amount,
      kind: row.kind,
      reference: row.reference,
      createdAt: row.created_at.toISOString(),
    }));
  }
}
