import { millis, NOW, statement } from './sql.js';

interface KeyParams {
  userId: string;
  scope: string;
  key: string;
}

/** Claims the key, or takes over one that has expired; no row back means someone else holds it. */
export const claimKey = statement<KeyParams & { requestHash: string; ttlMs: number; now: Date | null }, { userId: string }>(`
  INSERT INTO idempotency_keys (user_id, scope, key, request_hash, expires_at)
  VALUES (:userId, :scope, :key, :requestHash, ${NOW} + ${millis('ttlMs')})
  ON CONFLICT (user_id, scope, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, response = NULL,
        created_at = now(), updated_at = now(), expires_at = EXCLUDED.expires_at
    WHERE idempotency_keys.expires_at <= ${NOW}
  RETURNING user_id AS "userId"`);

export const readKey = statement<KeyParams & { now: Date | null }, { requestHash: string; response: unknown; live: boolean }>(`
  SELECT request_hash AS "requestHash", response, expires_at > ${NOW} AS live FROM idempotency_keys
  WHERE user_id = :userId AND scope = :scope AND key = :key`);

export const storeOutcome = statement<KeyParams & { response: string }>(`
  UPDATE idempotency_keys SET response = :response, updated_at = now()
  WHERE user_id = :userId AND scope = :scope AND key = :key`);

export const purgeExpiredKeys = statement<{ now: Date | null; limit: number }>(`
  DELETE FROM idempotency_keys
  WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE expires_at <= ${NOW} LIMIT :limit)`);
