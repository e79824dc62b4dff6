import { statement } from '../../shared/sql.js';
import type { LedgerKind } from './wallet.schemas.js';

export const createWallet = statement<{ userId: string }>(`INSERT INTO wallets (user_id) VALUES (:userId)`);

export const readBalance = statement<{ userId: string }, { balance: number }>(`SELECT balance FROM wallets WHERE user_id = :userId`);

export const credit = statement<{ userId: string; amount: number }, { balance: number }>(`
  UPDATE wallets SET balance = balance + :amount, updated_at = now()
  WHERE user_id = :userId
  RETURNING balance`);

/** Rule: a balance never goes negative (first word). The debit decides "enough money?" in the same statement that takes it: no read-then-write gap. */
export const debit = statement<{ userId: string; amount: number }, { balance: number }>(`
  UPDATE wallets SET balance = balance - :amount, updated_at = now()
  WHERE user_id = :userId AND balance >= :amount
  RETURNING balance`);

export const appendLedger = statement<{ userId: string; amount: number; kind: LedgerKind; reference: string | null }>(`
  INSERT INTO wallet_ledger (user_id, amount, kind, reference)
  VALUES (:userId, :amount, :kind, :reference)`);

export const listLedger = statement<
  { userId: string; limit: number },
  { id: number; amount: number; kind: LedgerKind; reference: string | null; createdAt: Date }
>(`
  SELECT id, amount, kind, reference, created_at AS "createdAt"
  FROM wallet_ledger
  WHERE user_id = :userId
  ORDER BY id DESC
  LIMIT :limit`);
