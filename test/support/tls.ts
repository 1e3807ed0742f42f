import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A throwaway PKI made with the machine's openssl, as docs/tls.md tells an operator to: a CA, a
 * server certificate it issues for 127.0.0.1 and localhost, and a second CA that issued nothing
 * (the "wrong CA" an agent might be given).
 */
export interface TestPki {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** A CA that did not issue certFile. */
  otherCaFile: string;
  /** A self-signed server certificate and its key (no CA). */
  selfSignedCertFile: string;
  selfSignedKeyFile: string;
}

/** Runs openssl with a command line of space-separated words (no word holds a space). */
function openssl(dir: string, commandLine: string): void {
  execFileSync('openssl', commandLine.split(' '), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const NEW_P256_KEY = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';

function makeCa(dir: string, name: string): void {
  openssl(
    dir,
    `req -x509 ${NEW_P256_KEY} -keyout ${name}.key -out ${name}.pem -days 2 -subj /CN=${name} ` +
      '-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign',
  );
}

export function makeTestPki(dir: string): TestPki {
  makeCa(dir, 'smew-test-ca');
  makeCa(dir, 'smew-other-ca');
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  openssl(dir, `req ${NEW_P256_KEY} -keyout server.key -out server.csr -subj /CN=smew-collector`);
  openssl(
    dir,
    'x509 -req -in server.csr -CA smew-test-ca.pem -CAkey smew-test-ca.key -CAcreateserial ' +
      '-out server.pem -days 2 -extfile server.ext',
  );
  openssl(
    dir,
    `req -x509 ${NEW_P256_KEY} -keyout self.key -out self.pem -days 2 -subj /CN=localhost ` +
      '-addext subjectAltName=IP:127.0.0.1,DNS:localhost',
  );
  return {
    caFile: join(dir, 'smew-test-ca.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    otherCaFile: join(dir, 'smew-other-ca.pem'),
    selfSignedCertFile: join(dir, 'self.pem'),
    selfSignedKeyFile: join(dir, 'self.key'),
  };
}
