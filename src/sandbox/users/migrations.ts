import type { Migration } from '../../kernel/store/index.js';

/**
 * The reference user-management service's tables (src/sandbox/users). Prefixed `um_` so they cannot be
 * mistaken for gateway state: the gateway itself keeps no users, it asks the service over gRPC.
 */
export const usersSandboxMigrations: Migration[] = [
  {
    version: 20,
    name: 'users',
    sql: `
CREATE TABLE um_users (
  id              text        PRIMARY KEY,
  username        text        NOT NULL UNIQUE,
  password_hash   text        NOT NULL,
  disabled        boolean     NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE um_roles (
  name            text        PRIMARY KEY,
  description     text        NOT NULL DEFAULT '',
  permissions     jsonb       NOT NULL DEFAULT '[]'::jsonb
);

CREATE TABLE um_user_roles (
  user_id         text        NOT NULL REFERENCES um_users (id) ON DELETE CASCADE,
  role            text        NOT NULL REFERENCES um_roles (name) ON DELETE CASCADE,
  granted_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, role)
);

-- Failed sign-ins per username, whether or not the user exists, so lockout reveals nothing about existence.
CREATE TABLE um_login_failures (
  username        text        PRIMARY KEY,
  failures        int         NOT NULL DEFAULT 0,
  locked_until    timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Service accounts that may call the service: a public key (JWK) and the scopes it holds.
CREATE TABLE um_service_accounts (
  id              text        PRIMARY KEY,
  public_jwk      jsonb       NOT NULL,
  scopes          jsonb       NOT NULL DEFAULT '[]'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- One row: the revision of the role data, bumped by every role write (the consistency token).
CREATE TABLE um_revision (
  id              int         PRIMARY KEY CHECK (id = 1),
  revision        bigint      NOT NULL
);
INSERT INTO um_revision (id, revision) VALUES (1, 1);
`,
  },
];
