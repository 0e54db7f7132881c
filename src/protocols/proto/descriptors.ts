import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';

/** The .proto sources of `carebridge.users.v1`, relative to the `proto/` root. */
export const USERS_PROTO_FILES = [
  'carebridge/users/v1/users.proto',
  'carebridge/users/v1/roles.proto',
  'carebridge/users/v1/permissions.proto',
] as const;

/** A .proto file: the directory imports resolve from, its path there, and the name reflection serves it under. */
interface ProtoSource {
  root: string;
  file: string;
  name: string;
}

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

/** The protos the gRPC libraries ship (health and reflection), named as in grpc/grpc's `src/proto`. */
function grpcProtoSources(): ProtoSource[] {
  const require = createRequire(import.meta.url);
  const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));
  const reflection = path.join(packageDir('@grpc/reflection'), 'build/proto');
  return [
    {
      root: path.join(packageDir('grpc-health-check'), 'proto'),
      file: 'health/v1/health.proto',
      name: 'grpc/health/v1/health.proto',
    },
    ...['v1', 'v1alpha'].map((v) => ({
      root: reflection,
      file: `grpc/reflection/${v}/reflection.proto`,
      name: `grpc/reflection/${v}/reflection.proto`,
    })),
  ];
}

/**
 * Loads one file and names its descriptor after the source file. proto-loader (protobufjs) merges a package into
 * one descriptor named after the package (`carebridge_users_v1.proto`), which grpcurl's `describe` and
 * file_by_filename cannot find; loaded alone, a file without imports is exactly one descriptor, renamed here.
 */
function loadFile(src: ProtoSource): PackageDefinition {
  const def = loadSync(src.file, {
    includeDirs: [src.root],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  const entries = Object.values(def) as Array<{ fileDescriptorProtos?: Buffer[] }>;
  const encoded = new Set(entries.flatMap((e) => e.fileDescriptorProtos ?? []));
  if (encoded.size !== 1) {
    throw new Error(
      `${src.file}: expected one file descriptor, got ${encoded.size} (imports are not split yet)`,
    );
  }
  const descriptor = fromBinary(FileDescriptorProtoSchema, [...encoded][0]!);
  descriptor.name = src.name;
  const renamed = Buffer.from(toBinary(FileDescriptorProtoSchema, descriptor));
  for (const e of entries) if (e.fileDescriptorProtos) e.fileDescriptorProtos = [renamed];
  return def;
}

/**
 * The descriptors as a proto-loader package definition, one file descriptor per `.proto` source under its
 * source name: only for server reflection (grpcurl in development). Calls use the ts-proto generated, typed code.
 */
export function loadUsersPackageDefinition(): PackageDefinition {
  const root = protoRoot();
  return Object.assign({}, ...USERS_PROTO_FILES.map((file) => loadFile({ root, file, name: file })));
}

/**
 * What a server that also offers grpc.health.v1 and reflection describes through reflection: the users
 * services plus those two (grpcurl lists them and can `describe` them too).
 */
export function loadReflectionPackageDefinition(): PackageDefinition {
  return Object.assign({}, loadUsersPackageDefinition(), ...grpcProtoSources().map(loadFile));
}
