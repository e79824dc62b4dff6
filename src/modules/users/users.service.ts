import type { Clock } from '../../shared/clock.js';
import type { Database } from '../../shared/db.js';
import { AppError } from '../../shared/errors.js';
import type { TokenClaims, TokenSigner } from '../../shared/signed-token.js';
import type { WalletService } from '../wallet/wallet.service.js';
import type { RegisteredUserView, UserView } from './users.schemas.js';
import * as sql from './users.sql.js';

interface AccessTokenClaims extends TokenClaims {
  typ: 'access';
  sub: string;
}

const toView = (row: { id: string; userName: string; createdAt: Date }): UserView => ({
  id: row.id,
  userName: row.userName,
  createdAt: row.createdAt.toISOString(),
});

export class UserService {
  constructor(
    private readonly db: Database,
    private readonly wallet: WalletService,
    private readonly signer: TokenSigner,
    private readonly clock: Clock,
    private readonly accessTokenTtlMs: number,
  ) {}

  /** Registers a user with an empty wallet and hands back a signed access token. */
  async register(userName: string): Promise<RegisteredUserView> {
    const user = await this.db.withTx(async (tx) => {
      const [row] = await sql.insertUser.rows(tx, { userName });
      await this.wallet.createWallet(tx, row!.id);
      return toView(row!);
    });
    const now = this.clock.now().getTime();
    const accessToken = this.signer.sign<AccessTokenClaims>({ typ: 'access', sub: user.id, iat: now, exp: now + this.accessTokenTtlMs });
    return { ...user, accessToken };
  }

  async get(userId: string): Promise<UserView> {
    const row = await sql.findUser.first(this.db, { userId });
    if (!row) throw new AppError('NOT_FOUND', 'User not found.');
    return toView(row);
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
