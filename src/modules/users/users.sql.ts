import { statement } from '../../shared/sql.js';

interface UserRow {
  id: string;
  userName: string;
  createdAt: Date;
}

export const insertUser = statement<{ userName: string }, UserRow>(`
  INSERT INTO users (user_name) VALUES (:userName)
  RETURNING id, user_name AS "userName", created_at AS "createdAt"`);

export const findUser = statement<{ userId: string }, UserRow>(`
  SELECT id, user_name AS "userName", created_at AS "createdAt" FROM users WHERE id = :userId`);

