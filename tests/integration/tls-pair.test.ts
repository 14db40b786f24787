/** Reading the TLS pair (src/edge/tls.ts) from files `openssl` makes here: what is served, and each refusal's words. */
import { beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readTlsPair, TlsError } from "../../src/edge/tls.ts";
import { makeTestPki, type TestPki } from "../support/interop.ts";

let pki: TestPki;
let one: { certFile: string; keyFile: string };
let two: { certFile: string; keyFile: string };

beforeAll(async () => {
  pki = await makeTestPki();
  [one, two] = await Promise.all([pki.issue("one"), pki.issue("two")]);
}, 20_000);

test("a matching pair is read with its subject and expiry", () => {
  const pair = readTlsPair(one.certFile, one.keyFile);
  expect(pair.cert).toStartWith("-----BEGIN CERTIFICATE-----");
  expect(pair.subject).toBe("CN=one");
  expect(Date.parse(pair.notAfter)).toBeGreaterThan(Date.now());
});

test("each broken pair is a TlsError naming the flag, the file and the problem", () => {
  const garbage = join(pki.dir, "garbage.pem");
  writeFileSync(garbage, "hello\n");
  expect(() => readTlsPair(join(pki.dir, "missing.pem"), one.keyFile)).toThrow(new RegExp(`^cannot read --tls-cert ${pki.dir}/missing.pem: .*ENOENT`));
  expect(() => readTlsPair(garbage, one.keyFile)).toThrow(/^--tls-cert .*garbage\.pem must be a PEM certificate/);
  expect(() => readTlsPair(one.certFile, garbage)).toThrow(/^--tls-key .*garbage\.pem must be a PEM private key/);
  expect(() => readTlsPair(one.certFile, two.keyFile)).toThrow(/^--tls-key .*two\.key is not the private key of the certificate in .*one\.pem \(CN=one\)$/);
  expect(() => readTlsPair(one.certFile, two.keyFile)).toThrow(TlsError);
});
