export const createWallet = `INSERT INTO wallets (user_id) VALUES ($1)`;

export const readBalance = `SELECT balance FROM wallets WHERE user_id = $1`;

export const credit = `
  UPDATE wallets SET balance = balance + $2, updated_at = now()
  WHERE user_id = $1
  RETURNING balance`;

/** The debit decides "enough money?" in the same statement that takes it: no read-then-write gap. */
export const debit = `
  UPDATE wallets SET balance = balance - $2, updated_at = now()
  WHERE user_id = $1 AND balance >= $2
  RETURNING balance`;

export const appendLedger = `
  INSERT INTO wallet_ledger (user_id, amount, kind, reference)
  VALUES ($1, $2, $3, $4)`;

export const listLedger = `
  SELECT id, amount, kind, reference, created_at
  FROM wallet_ledger
  WHERE user_id = $1
  ORDER BY id DESC
  LIMIT $2`;
