import { status } from '@grpc/grpc-js';
import {
  type CheckPermissionRequest,
  type CheckPermissionsPair,
  type PermissionServiceServer,
  Permissionship,
  type RoleServiceServer,
  SCOPES,
  type User,
  type UserServiceServer,
} from '../../protocols/proto/index.js';
import type { Decision, UserDirectory } from './directory.js';
import type { UserRow } from './repository.js';
import { type RpcDeps, RpcError, unary } from './rpc.js';
import type { TokenIssuer } from './tokens.js';

const MAX_BATCH = 100;

async function toUser(dir: UserDirectory, u: UserRow): Promise<User> {
  const roles = (await dir.rolesOf(u.id)).map((r) => r.name);
  return {
    id: u.id,
    username: u.username,
    disabled: u.disabled,
    roles,
    createdAt: u.createdAt.toISOString(),
  };
}

const decision = (d: Decision) => ({
  permissionship: d.allowed
    ? Permissionship.PERMISSIONSHIP_HAS_PERMISSION
    : Permissionship.PERMISSIONSHIP_NO_PERMISSION,
  allowed: d.allowed,
  checkedAt: d.checkedAt,
});

export function userServiceHandlers(
  deps: RpcDeps,
  dir: UserDirectory,
  tokens: TokenIssuer,
): UserServiceServer {
  return {
    authenticateUser: unary(deps, 'AuthenticateUser', SCOPES.authenticate, (req) =>
      dir.authenticate(req.username, req.password),
    ),
    getUser: unary(deps, 'GetUser', SCOPES.usersRead, async (req) => ({
      user: await toUser(dir, await dir.user(req.userId)),
    })),
    createUser: unary(deps, 'CreateUser', SCOPES.usersWrite, async (req) => ({
      user: await toUser(dir, await dir.createUser(req.username, req.password, req.roles)),
    })),
    disableUser: unary(deps, 'DisableUser', SCOPES.usersWrite, async (req) => ({
      user: await toUser(dir, await dir.disable(req.userId)),
    })),
    getJwks: unary(deps, 'GetJwks', SCOPES.authenticate, async () => ({
      jwksJson: JSON.stringify(tokens.jwks()),
    })),
  };
}

export function roleServiceHandlers(deps: RpcDeps, dir: UserDirectory): RoleServiceServer {
  return {
    getUserRoles: unary(deps, 'GetUserRoles', SCOPES.rolesRead, async (req) => ({
      userId: req.userId,
      roles: await dir.rolesOf(req.userId),
    })),
    assignRole: unary(deps, 'AssignRole', SCOPES.rolesWrite, async (req, caller) => {
      const r = await dir.changeRole(req.userId, req.role, true, caller.serviceAccount);
      return { roles: r.roles, consistencyToken: r.token };
    }),
    revokeRole: unary(deps, 'RevokeRole', SCOPES.rolesWrite, async (req, caller) => {
      const r = await dir.changeRole(req.userId, req.role, false, caller.serviceAccount);
      return { roles: r.roles, consistencyToken: r.token };
    }),
    listRoles: unary(deps, 'ListRoles', SCOPES.rolesRead, async () => ({ roles: await dir.listRoles() })),
  };
}

export function permissionServiceHandlers(deps: RpcDeps, dir: UserDirectory): PermissionServiceServer {
  const one = async (item: CheckPermissionRequest): Promise<CheckPermissionsPair> => {
    try {
      return {
        request: item,
        response: {
          $case: 'item',
          value: decision(await dir.check(item.subject, item.resource, item.action)),
        },
      };
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      return { request: item, response: { $case: 'error', value: { code: err.code, message: err.message } } };
    }
  };
  return {
    checkPermission: unary(deps, 'CheckPermission', SCOPES.permissionsCheck, async (req) =>
      decision(await dir.check(req.subject, req.resource, req.action)),
    ),
    checkPermissions: unary(deps, 'CheckPermissions', SCOPES.permissionsCheck, async (req) => {
      if (req.items.length > MAX_BATCH)
        throw new RpcError(status.INVALID_ARGUMENT, `at most ${MAX_BATCH} items per batch`);
      const pairs: CheckPermissionsPair[] = [];
      for (const item of req.items) pairs.push(await one(item));
      return { pairs, checkedAt: await dir.checkedAt() };
    }),
    listPermissions: unary(deps, 'ListPermissions', SCOPES.permissionsCheck, async (req) => ({
      subject: req.subject,
      permissions: [...new Set(await dir.grantsOf(req.subject))].sort(),
      checkedAt: await dir.checkedAt(),
    })),
  };
}
