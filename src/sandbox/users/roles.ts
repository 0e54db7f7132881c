/**
 * The permission model: a role is a set of `resource:action` grants; `*` matches any resource or any
 * action (`payments:*`, `*:read`, `*:*`). A subject holds a permission when any of its roles grants it.
 */
export interface RoleDefinition {
  name: string;
  description: string;
  permissions: string[];
}

/** The roles every user service starts with (documented in docs/integrations/users.md). */
export const SEEDED_ROLES: RoleDefinition[] = [
  { name: 'admin', description: 'Everything, including user and role administration.', permissions: ['*:*'] },
  {
    name: 'billing',
    description: 'Payments, refunds and subscriptions; reads everything.',
    permissions: ['payments:*', 'refunds:*', 'subscriptions:*', '*:read'],
  },
  {
    name: 'pharmacist',
    description:
      'Patient-facing pharmacy work: eligibility, claims, shipping, notifications. No payment data.',
    permissions: [
      'notifications:*',
      'eligibility:check',
      'claims:submit',
      'claims:read',
      'shipping:*',
      'subscriptions:read',
      'users:read',
      'roles:read',
    ],
  },
  {
    name: 'support',
    description: 'Customer support: reads everything and sends notifications.',
    permissions: ['*:read', 'notifications:send'],
  },
  {
    name: 'service',
    description: 'Machine callers: every business action, but no user or role administration.',
    permissions: [
      'payments:*',
      'refunds:*',
      'subscriptions:*',
      'notifications:*',
      'eligibility:*',
      'claims:*',
      'shipping:*',
      'analytics:*',
      'users:read',
      'roles:read',
      'permissions:check',
    ],
  },
];

const PART = /^(\*|[a-z][a-z0-9_-]*)$/;

/** Whether `text` is a valid grant or permission (`resource:action`, wildcards allowed). */
export function isPermission(text: string): boolean {
  const [resource, action, extra] = text.split(':');
  return (
    extra === undefined &&
    resource !== undefined &&
    action !== undefined &&
    PART.test(resource) &&
    PART.test(action)
  );
}

/** Whether one grant covers the permission `resource:action`. */
export function grantCovers(grant: string, resource: string, action: string): boolean {
  const [gr, ga] = grant.split(':');
  return (gr === '*' || gr === resource) && (ga === '*' || ga === action);
}

/** Whether any of `grants` covers `resource:action`. */
export function grantsCover(grants: Iterable<string>, resource: string, action: string): boolean {
  for (const g of grants) if (grantCovers(g, resource, action)) return true;
  return false;
}
