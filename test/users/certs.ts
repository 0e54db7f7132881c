import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestPki {
  ca: Buffer;
  server: { cert: Buffer; key: Buffer };
  client: { cert: Buffer; key: Buffer };
  /** A CA nobody trusts, with a client certificate it signed. */
  rogue: { ca: Buffer; cert: Buffer; key: Buffer };
}

function run(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function makeCa(dir: string, name: string): void {
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  run(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-sha256',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

function makeLeaf(dir: string, name: string, ca: string, ext: string): void {
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  run(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`], dir);
  writeFileSync(path.join(dir, `${name}.ext`), ext);
  run(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '1',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

/** A throw-away PKI made with the openssl CLI at test time: CA, server (localhost, 127.0.0.1) and client certs. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'carebridge-pki-'));
  try {
    makeCa(dir, 'ca');
    makeCa(dir, 'rogue-ca');
    makeLeaf(dir, 'server', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    makeLeaf(dir, 'client', 'ca', 'extendedKeyUsage=clientAuth\n');
    makeLeaf(dir, 'rogue', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
    const read = (f: string) => readFileSync(path.join(dir, f));
    return {
      ca: read('ca.crt'),
      server: { cert: read('server.crt'), key: read('server.key') },
      client: { cert: read('client.crt'), key: read('client.key') },
      rogue: { ca: read('rogue-ca.crt'), cert: read('rogue.crt'), key: read('rogue.key') },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
