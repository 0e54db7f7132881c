import { status } from '@grpc/grpc-js';
import { ERROR_REASON_METADATA, ERROR_REASONS, RETRY_AFTER_METADATA } from '../../protocols/proto/index.js';
import { HashingBusy, type PasswordHasher } from './password-hasher.js';
import type { UserRow, UsersRepository } from './repository.js';
import { grantsCover, isPermission, type RoleDefinition } from './roles.js';
import { RpcError } from './rpc.js';
import type { TokenIssuer } from './tokens.js';

export interface LockoutPolicy {
  /** Failed attempts (per username, existing or not) before the username is locked. */
  threshold: number;
  lockSeconds: number;
}

export interface Decision {
  allowed: boolean;
  checkedAt: string;
}

const INVALID_CREDENTIALS = 'invalid username or password';

/** The user service's behaviour, independent of gRPC: sign-in with lockout, users, roles, decisions. */
export class UserDirectory {
  private dummyHash: Promise<string>;

  constructor(
    private readonly repo: UsersRepository,
    private readonly tokens: TokenIssuer,
    private readonly lockout: LockoutPolicy,
    private readonly now: () => Date,
    private readonly hasher: PasswordHasher,
  ) {
    // Verified against when the user does not exist, so both answers take the same time (and the same share
    // of the hasher: an unknown username costs what a wrong password costs).
    this.dummyHash = hasher.hash('not-a-real-password');
  }

  async authenticate(username: string, password: string) {
    const now = this.now();
    const { lockedUntil } = await this.repo.failures(username);
    if (lockedUntil && lockedUntil > now) {
      const seconds = Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000);
      throw new RpcError(status.RESOURCE_EXHAUSTED, 'too many failed sign-ins; try again later', {
        [RETRY_AFTER_METADATA]: String(seconds),
        [ERROR_REASON_METADATA]: ERROR_REASONS.accountLocked,
      });
    }
    const user = await this.repo.findByUsername(username);
    const ok = await this.verify(password, user ? user.passwordHash : await this.dummyHash);
    if (!user || !ok || user.disabled) {
      await this.repo.recordFailure(username, now, this.lockout.threshold, this.lockout.lockSeconds);
      throw new RpcError(status.UNAUTHENTICATED, INVALID_CREDENTIALS, {
        [ERROR_REASON_METADATA]: ERROR_REASONS.invalidCredentials,
      });
    }
    await this.repo.clearFailures(username);
    const roles = (await this.repo.rolesOf(user.id)).map((r) => r.name);
    const { token, expiresIn } = await this.tokens.issue({ sub: user.id, roles });
    return { accessToken: token, tokenType: 'Bearer', expiresIn, userId: user.id, roles };
  }

  async createUser(username: string, password: string, roles: string[], id?: string): Promise<UserRow> {
    if (!/^[a-z0-9][a-z0-9._-]{1,63}$/.test(username))
      throw new RpcError(status.INVALID_ARGUMENT, 'username: 2-64 of a-z 0-9 . _ -');
    if (password.length < 8) throw new RpcError(status.INVALID_ARGUMENT, 'password: at least 8 characters');
    await this.requireRoles(roles);
    if (await this.repo.findByUsername(username)) throw new RpcError(status.ALREADY_EXISTS, 'username taken');
    return this.repo.createUser(username, await this.hasher.hash(password), roles, id);
  }

  async user(id: string): Promise<UserRow> {
    const user = await this.repo.findById(id);
    if (!user) throw new RpcError(status.NOT_FOUND, 'no such user');
    return user;
  }

  async disable(id: string): Promise<UserRow> {
    await this.user(id);
    await this.repo.setDisabled(id, true);
    return this.user(id);
  }

  async rolesOf(userId: string): Promise<RoleDefinition[]> {
    await this.user(userId);
    return this.repo.rolesOf(userId);
  }

  /** Grants or revokes a role; `actor` (the calling service account) is recorded in the audit log. */
  async changeRole(
    userId: string,
    role: string,
    grant: boolean,
    actor = 'system',
  ): Promise<{ roles: string[]; token: string }> {
    await this.user(userId);
    await this.requireRoles([role]);
    const revision = await this.repo.changeRole(userId, role, grant, actor);
    return { roles: (await this.repo.rolesOf(userId)).map((r) => r.name), token: `rev_${revision}` };
  }

  listRoles(): Promise<RoleDefinition[]> {
    return this.repo.listRoles();
  }

  /** The subject's grants (a disabled or unknown subject has none). */
  async grantsOf(subject: string): Promise<string[]> {
    const user = await this.repo.findById(subject);
    if (!user || user.disabled) return [];
    return (await this.repo.rolesOf(subject)).flatMap((r) => r.permissions);
  }

  async check(subject: string, resource: string, action: string): Promise<Decision> {
    if (!subject) throw new RpcError(status.INVALID_ARGUMENT, 'subject is required');
    if (!isPermission(`${resource}:${action}`) || resource === '*' || action === '*') {
      throw new RpcError(status.INVALID_ARGUMENT, 'resource and action must be names (no wildcards)');
    }
    const { grants, revision } = await this.repo.grantsAt(subject);
    return { allowed: grantsCover(grants, resource, action), checkedAt: `rev_${revision}` };
  }

  async checkedAt(): Promise<string> {
    return `rev_${await this.repo.revision()}`;
  }

  /** A sign-in refused for lack of a hashing slot is no failed attempt: it neither counts nor locks. */
  private async verify(password: string, stored: string): Promise<boolean> {
    try {
      return await this.hasher.verify(password, stored);
    } catch (err) {
      if (!(err instanceof HashingBusy)) throw err;
      throw new RpcError(status.RESOURCE_EXHAUSTED, 'too many sign-ins in progress; try again shortly', {
        [RETRY_AFTER_METADATA]: '1',
      });
    }
  }

  private async requireRoles(roles: string[]): Promise<void> {
    const known = new Set((await this.repo.listRoles()).map((r) => r.name));
    const unknown = roles.filter((r) => !known.has(r));
    if (unknown.length) throw new RpcError(status.INVALID_ARGUMENT, `unknown role(s): ${unknown.join(', ')}`);
  }
}
