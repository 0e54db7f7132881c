import { z } from 'zod';
import type { BatchResult, PermissionCheck } from '../../integrations/users/index.js';
import type { RouteModule } from '../types.js';

export interface UsersPort {
  getUserRoles(userId: string): Promise<Array<{ name: string; description: string; permissions: string[] }>>;
  checkPermissions(checks: PermissionCheck[]): Promise<BatchResult[]>;
}

const permission = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$/, { error: 'expected resource:action' });
const userId = z.string().regex(/^usr_[A-Za-z0-9_]{1,60}$/, { error: 'expected a user id (usr_…)' });
/** Whom a decision is about: a user (`usr_…`) or a service account (`svc_…`, see USERS_SERVICE_ACCOUNT_ID). */
const subjectId = z.string().regex(/^(?:usr_[A-Za-z0-9_]{1,60}|svc_[a-z0-9_-]{1,60})$/, {
  error: 'expected a user or service-account id (usr_… or svc_…)',
});
const role = z.object({ name: z.string(), description: z.string(), permissions: z.array(z.string()) });

/** `GET /v1/users/{id}/roles` and `POST /v1/permissions/check` (batch of up to 100 permissions for one subject). */
export function usersRoutes(users: UsersPort): RouteModule {
  return {
    name: 'users',
    register(app) {
      app.get(
        '/users/:id/roles',
        {
          config: { permission: 'roles:read' },
          schema: {
            tags: ['users'],
            summary: 'The roles of a user, with the permissions each grants',
            params: z.object({ id: userId }),
            response: { 200: z.object({ userId: z.string(), roles: z.array(role) }) },
          },
        },
        async (request) => ({
          userId: request.params.id,
          roles: await users.getUserRoles(request.params.id),
        }),
      );

      app.post(
        '/permissions/check',
        {
          config: { permission: 'permissions:check' },
          schema: {
            tags: ['users'],
            summary: 'Check whether a subject holds permissions',
            description:
              'Decides up to 100 `resource:action` permissions for `subject` (default: the caller) in one call. Each result is `allowed` or an `error` code; decisions may be cached for a few seconds.',
            body: z.strictObject({
              // Checked here, not by the user service: a malformed subject is the caller's 400, never an
              // upstream failure that counts against the users circuit breaker.
              subject: subjectId.optional(),
              permissions: z.array(permission).min(1).max(100),
            }),
            response: {
              200: z.object({
                subject: z.string(),
                results: z.array(
                  z.object({ permission: z.string(), allowed: z.boolean(), error: z.string().optional() }),
                ),
              }),
            },
          },
        },
        async (request) => {
          const subject = request.body.subject ?? request.principal!.subject;
          const checks = request.body.permissions.map((p) => {
            const [resource, action] = p.split(':') as [string, string];
            return { subject, resource, action };
          });
          const res = await users.checkPermissions(checks);
          return {
            subject,
            results: res.map((r, i) =>
              'allowed' in r
                ? { permission: request.body.permissions[i]!, allowed: r.allowed }
                : { permission: request.body.permissions[i]!, allowed: false, error: r.error.code },
            ),
          };
        },
      );
    },
  };
}
