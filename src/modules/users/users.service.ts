import type { Clock } from '../../shared/clock.js';
import type { Database } from '../../shared/db.js';
import { AppError } from '../../shared/errors.js';
import type { TokenClaims, TokenSigner } from '../../shared/signed-token.js';
import type { WalletService } from '../wallet/wallet.service.js';

interface AccessTokenClaims extends TokenClaims {
  typ: 'access';
  sub: string;
}

export interface UserView {
  id: string;
  userName: string;
  createdAt: string;
}

const insertUser = `INSERT INTO users (user_name) VALUES ($1) RETURNING id, user_name, created_at`;
const findUser = `SELECT id, user_name, created_at FROM users WHERE id = $1`;

type UserRow = { id: string; user_name: string; created_at: Date };
const toView = (row: UserRow): UserView => ({ id: row.id, userName: row.user_name, createdAt: row.created_at.toISOString() });

export class UserService {
  constructor(
    private readonly db: Database,
    private readonly wallet: WalletService,
    private readonly signer: TokenSigner,
    private readonly clock: Clock,
    private readonly accessTokenTtlMs: number,
  ) {}

  /** Registers a user with an empty wallet and hands back a signed access token. */
  async register(userName: string): Promise<UserView & { accessToken: string }> {
    const user = await this.db.withTx(async (tx) => {
      const { rows } = await tx.query<UserRow>(insertUser, [userName]);
      await this.wallet.createWallet(tx, rows[0]!.id);
      return toView(rows[0]!);
    });
    const now = this.clock.now().getTime();
    const accessToken = this.signer.sign<AccessTokenClaims>({ typ: 'access', sub: user.id, iat: now, exp: now + this.accessTokenTtlMs });
    return { ...user, accessToken };
  }

  async get(userId: string): Promise<UserView> {
    const { rows } = await this.db.query<UserRow>(findUser, [userId]);
    if (!rows[0]) throw new AppError('NOT_FOUND', 'User not found.');
    return toView(rows[0]);
  }

  /** The user id an `Authorization: Bearer` header proves; UNAUTHORIZED otherwise. */
  authenticate(authorization: string | undefined): string {
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization ?? '');
    if (!match) throw new AppError('UNAUTHORIZED', 'An Authorization: Bearer access token is required.');
    const claims = this.signer.verify<AccessTokenClaims>(match[1]!, 'access');
    if (!claims) throw new AppError('UNAUTHORIZED', 'The access token is not valid.');
    if (claims.exp <= this.clock.now().getTime()) throw new AppError('UNAUTHORIZED', 'The access token has expired.');
    return claims.sub;
  }
}
