import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';

/** The .proto sources of `carebridge.users.v1`, relative to the `proto/` root. */
export const USERS_PROTO_FILES = [
  'carebridge/users/v1/users.proto',
  'carebridge/users/v1/roles.proto',
  'carebridge/users/v1/permissions.proto',
] as const;

/** Finds the repository's `proto/` directory from this module (works from src/ under tsx and from dist/). */
function protoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'proto', USERS_PROTO_FILES[0]);
    if (existsSync(candidate)) return path.join(dir, 'proto');
    dir = path.dirname(dir);
  }
  throw new Error('proto/ directory not found next to the CareBridge sources');
}

/**
 * The descriptors as a proto-loader package definition: only for server reflection (grpcurl in
 * development). Calls use the ts-proto generated, typed code instead.
 */
export function loadUsersPackageDefinition(): PackageDefinition {
  return loadSync([...USERS_PROTO_FILES], {
    includeDirs: [protoRoot()],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
}
