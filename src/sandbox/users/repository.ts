import { newId } from '../../kernel/ids/index.js';
import type { Queryable, Store } from '../../kernel/store/index.js';
import { audit } from '../../kernel/store/index.js';
import type { RoleDefinition } from './roles.js';

export interface UserRow {
  id: string;
  username: string;
  passwordHash: string;
  disabled: boolean;
  createdAt: Date;
}

interface RawUser {
  id: string;
  username: string;
  password_hash: string;
  disabled: boolean;
  created_at: Date | string;
}

const toUser = (r: RawUser): UserRow => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  disabled: r.disabled,
  createdAt: new Date(r.created_at),
});

const asArray = (v: unknown): string[] =>
  typeof v === 'string' ? (JSON.parse(v) as string[]) : (v as string[]);

/** The user service's SQL, in one place (tables from migration 020-users). */
export class UsersRepository {
  constructor(private readonly store: Store) {}

  async upsertRoles(roles: RoleDefinition[]): Promise<void> {
    for (const r of roles) {
      await this.store.query(
        `INSERT INTO um_roles (name, description, permissions) VALUES ($1, $2, $3::jsonb)
         ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, permissions = EXCLUDED.permissions`,
        [r.name, r.description, JSON.stringify(r.permissions)],
      );
    }
  }

  async listRoles(): Promise<RoleDefinition[]> {
    const { rows } = await this.store.query<{ name: string; description: string; permissions: unknown }>(
      'SELECT name, description, permissions FROM um_roles ORDER BY name',
    );
    return rows.map((r) => ({
      name: r.name,
      description: r.description,
      permissions: asArray(r.permissions),
    }));
  }

  async createUser(
    username: string,
    passwordHash: string,
    roles: string[],
    id = newId('usr'),
  ): Promise<UserRow> {
    return this.store.transaction(async (tx) => {
      const { rows } = await tx.query<RawUser>(
        'INSERT INTO um_users (id, username, password_hash) VALUES ($1, $2, $3) RETURNING *',
        [id, username, passwordHash],
      );
      for (const role of roles)
        await tx.query('INSERT INTO um_user_roles (user_id, role) VALUES ($1, $2)', [id, role]);
      if (roles.length) await bumpRevision(tx);
      return toUser(rows[0]!);
    });
  }

  async findByUsername(username: string): Promise<UserRow | undefined> {
    const { rows } = await this.store.query<RawUser>('SELECT * FROM um_users WHERE username = $1', [
      username,
    ]);
    return rows[0] ? toUser(rows[0]) : undefined;
  }

  async findById(id: string): Promise<UserRow | undefined> {
    const { rows } = await this.store.query<RawUser>('SELECT * FROM um_users WHERE id = $1', [id]);
    return rows[0] ? toUser(rows[0]) : undefined;
  }

  async setDisabled(id: string, disabled: boolean): Promise<void> {
    await this.store.query('UPDATE um_users SET disabled = $2 WHERE id = $1', [id, disabled]);
  }

  async rolesOf(userId: string): Promise<RoleDefinition[]> {
    const { rows } = await this.store.query<{ name: string; description: string; permissions: unknown }>(
      `SELECT r.name, r.description, r.permissions FROM um_user_roles ur JOIN um_roles r ON r.name = ur.role
       WHERE ur.user_id = $1 ORDER BY r.name`,
      [userId],
    );
    return rows.map((r) => ({
      name: r.name,
      description: r.description,
      permissions: asArray(r.permissions),
    }));
  }

  /** Grants or revokes a role, with its audit row in the same transaction; returns the new revision. */
  async changeRole(userId: string, role: string, grant: boolean, actor: string): Promise<number> {
    return this.store.transaction(async (tx) => {
      await audit(tx, {
        actor,
        action: grant ? 'roles.assign' : 'roles.revoke',
        resource: `user:${userId}`,
        outcome: 'success',
        details: { role },
      });
      if (grant) {
        await tx.query('INSERT INTO um_user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
          userId,
          role,
        ]);
      } else {
        await tx.query('DELETE FROM um_user_roles WHERE user_id = $1 AND role = $2', [userId, role]);
      }
      return bumpRevision(tx);
    });
  }

  /** One round trip for a decision: the subject's grants (none if unknown or disabled) and the revision. */
  async grantsAt(subject: string): Promise<{ grants: string[]; revision: number }> {
    const { rows } = await this.store.query<{
      revision: string | number;
      disabled: boolean | null;
      permissions: unknown;
    }>(
      `SELECT (SELECT revision FROM um_revision WHERE id = 1) AS revision, u.disabled, r.permissions
       FROM (SELECT 1) one
       LEFT JOIN um_users u ON u.id = $1
       LEFT JOIN um_user_roles ur ON ur.user_id = u.id
       LEFT JOIN um_roles r ON r.name = ur.role`,
      [subject],
    );
    const grants = rows.flatMap((r) => (r.disabled === false && r.permissions ? asArray(r.permissions) : []));
    return { grants, revision: Number(rows[0]?.revision ?? 1) };
  }

  async revision(): Promise<number> {
    const { rows } = await this.store.query<{ revision: string | number }>(
      'SELECT revision FROM um_revision WHERE id = 1',
    );
    return Number(rows[0]?.revision ?? 1);
  }

  async failures(username: string): Promise<{ failures: number; lockedUntil: Date | null }> {
    const { rows } = await this.store.query<{ failures: number; locked_until: Date | string | null }>(
      'SELECT failures, locked_until FROM um_login_failures WHERE username = $1',
      [username],
    );
    const r = rows[0];
    return { failures: r?.failures ?? 0, lockedUntil: r?.locked_until ? new Date(r.locked_until) : null };
  }

  /** Counts one failed sign-in; locks the username once `threshold` is reached. Returns the new count. */
  async recordFailure(username: string, now: Date, threshold: number, lockSeconds: number): Promise<number> {
    const lockUntil = new Date(now.getTime() + lockSeconds * 1000);
    const { rows } = await this.store.query<{ failures: number }>(
      `INSERT INTO um_login_failures (username, failures, updated_at) VALUES ($1, 1, $2)
       ON CONFLICT (username) DO UPDATE SET failures = um_login_failures.failures + 1, updated_at = $2
       RETURNING failures`,
      [username, now],
    );
    const failures = rows[0]?.failures ?? 1;
    if (failures >= threshold) {
      await this.store.query(
        'UPDATE um_login_failures SET locked_until = $2, failures = 0 WHERE username = $1',
        [username, lockUntil],
      );
    }
    return failures;
  }

  async clearFailures(username: string): Promise<void> {
    await this.store.query('DELETE FROM um_login_failures WHERE username = $1', [username]);
  }

  async upsertServiceAccount(id: string, publicJwk: object, scopes: string[]): Promise<void> {
    await this.store.query(
      `INSERT INTO um_service_accounts (id, public_jwk, scopes) VALUES ($1, $2::jsonb, $3::jsonb)
       ON CONFLICT (id) DO UPDATE SET public_jwk = EXCLUDED.public_jwk, scopes = EXCLUDED.scopes`,
      [id, JSON.stringify(publicJwk), JSON.stringify(scopes)],
    );
  }

  async serviceAccount(
    id: string,
  ): Promise<{ publicJwk: Record<string, unknown>; scopes: string[] } | undefined> {
    const { rows } = await this.store.query<{ public_jwk: unknown; scopes: unknown }>(
      'SELECT public_jwk, scopes FROM um_service_accounts WHERE id = $1',
      [id],
    );
    const r = rows[0];
    if (!r) return undefined;
    const jwk = typeof r.public_jwk === 'string' ? JSON.parse(r.public_jwk) : r.public_jwk;
    return { publicJwk: jwk as Record<string, unknown>, scopes: asArray(r.scopes) };
  }
}

async function bumpRevision(tx: Queryable): Promise<number> {
  const { rows } = await tx.query<{ revision: string | number }>(
    'UPDATE um_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision',
  );
  return Number(rows[0]?.revision ?? 1);
}
