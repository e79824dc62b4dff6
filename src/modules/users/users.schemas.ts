import { Type, type Static } from '@sinclair/typebox';
import { Timestamp, Uuid } from '../../shared/schemas.js';

export const User = Type.Object({ id: Uuid, userName: Type.String(), createdAt: Timestamp });
export type UserView = Static<typeof User>;

export const RegisteredUser = Type.Composite([User, Type.Object({ accessToken: Type.String() })]);
export type RegisteredUserView = Static<typeof RegisteredUser>;

export const Registration = Type.Object(
  { userName: Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' }) },
  { additionalProperties: false },
);
