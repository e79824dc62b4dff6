export const insertPayment = `
  INSERT INTO payments (id, user_id, reservation_id, amount, status, failure_code, paid_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  RETURNING id, reservation_id, amount, status, failure_code, paid_at, created_at`;

export const listUserPayments = `
  SELECT id, reservation_id, amount, status, failure_code, paid_at, created_at
  FROM payments
  WHERE user_id = $1
  ORDER BY created_at DESC, id
  LIMIT $2`;
