export type { UsersFault } from './faults.js';
export { usersSandboxMigrations } from './migrations.js';
export { grantsCover, type RoleDefinition, SEEDED_ROLES } from './roles.js';
export { DEVELOPMENT_USERS, type SeedUser } from './seed.js';
export {
  startUserService,
  type UserServiceOptions,
  type UserServiceSandbox,
  type UserServiceTls,
} from './server.js';
export type { TokenAlgorithm } from './tokens.js';
