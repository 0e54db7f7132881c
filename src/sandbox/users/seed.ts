import type { UserDirectory } from './directory.js';
import type { UsersRepository } from './repository.js';
import { SEEDED_ROLES } from './roles.js';

export interface SeedUser {
  id: string;
  username: string;
  roles: string[];
}

/**
 * The documented development/test users (docs/integrations/users.md). Every one signs in with the
 * password from CAREBRIDGE_DEV_ADMIN_PASSWORD. Ids are stable so examples and tests can name them.
 */
export const DEVELOPMENT_USERS: SeedUser[] = [
  { id: 'usr_dev_admin', username: 'admin', roles: ['admin'] },
  { id: 'usr_dev_billing', username: 'billing', roles: ['billing'] },
  { id: 'usr_dev_pharmacist', username: 'pharmacist', roles: ['pharmacist'] },
  { id: 'usr_dev_support', username: 'support', roles: ['support'] },
  { id: 'usr_dev_service', username: 'service', roles: ['service'] },
  { id: 'usr_dev_noroles', username: 'noroles', roles: [] },
];

/** Seeds the roles (always) and, when a password is given, the development users that do not exist yet. */
export async function seed(
  repo: UsersRepository,
  dir: UserDirectory,
  devPassword: string | undefined,
): Promise<void> {
  await repo.upsertRoles(SEEDED_ROLES);
  if (devPassword === undefined) return;
  for (const u of DEVELOPMENT_USERS) {
    if (await repo.findById(u.id)) continue;
    await dir.createUser(u.username, devPassword, u.roles, u.id);
  }
}
