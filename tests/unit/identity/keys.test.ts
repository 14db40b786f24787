/** The key file: PEM or JWKS, each key pinned to its algorithm, unusable files refused with why, a failed reload keeps the keys. */
import { expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportPKCS8, generateKeyPair } from "jose";
import { KeyFileError, KeyStore, parseKeyFile } from "../../../src/runtime/identity/keys.ts";
import { testKeyPair } from "../../support/jwt.ts";

async function tempFile(contents: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), "skyport-keys-")), "keys");
  await writeFile(path, contents);
  return path;
}

async function problem(text: string): Promise<string> {
  try {
    await parseKeyFile(text);
  } catch (error) {
    expect(error).toBeInstanceOf(KeyFileError);
    return (error as Error).message;
  }
  throw new Error("expected a KeyFileError");
}

test("PEM blocks and JWKS: kids given or the RFC 7638 thumbprint", async () => {
  const [rsa, ec] = await Promise.all([testKeyPair("RS256", "r"), testKeyPair("ES256", "e")]);
  expect((await parseKeyFile(`${rsa.pem}\n${ec.pem}`)).kids).toHaveLength(2);
  expect((await parseKeyFile(JSON.stringify({ keys: [rsa.jwk, ec.jwk] }))).kids).toEqual(["r", "e"]);
  expect((await parseKeyFile(JSON.stringify(ec.jwk))).kids).toEqual(["e"]);
});

test("unusable key files say what is wrong", async () => {
  const [rsa, ec] = await Promise.all([testKeyPair("RS256", "r"), testKeyPair("ES256", "e")]);
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  expect(await problem("hello")).toContain("no -----BEGIN PUBLIC KEY----- block");
  expect(await problem(await exportPKCS8(privateKey))).toContain("a private key: give the public key");
  expect(await problem("{nope")).toContain("is not valid JSON");
  expect(await problem('{"keys":[]}')).toContain("holds no key");
  expect(await problem(JSON.stringify({ kty: "oct", k: "c2VjcmV0" }))).toContain("secret key material");
  expect(await problem(JSON.stringify({ ...ec.jwk, d: "x" }))).toContain("private or secret key material");
  expect(await problem(JSON.stringify({ ...ec.jwk, alg: "HS256" }))).toContain('says alg "HS256", but a EC key of this kind verifies ES256 only');
  expect(await problem(JSON.stringify({ ...ec.jwk, crv: "P-384" }))).toContain("curve P-256");
  expect(await problem(JSON.stringify({ keys: [rsa.jwk, { ...ec.jwk, kid: "r" }] }))).toContain('two keys with kid "r"');
});

test("an RSA key under 2048 bits is refused", async () => {
  // jose will not make one: node:crypto does.
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
  expect(await problem(publicKey.export({ type: "spki", format: "pem" }) as string)).toContain("at least 2048 bits: received 1024");
});

test("reload: new keys replace the old ones; a bad file keeps the old ones and says why", async () => {
  const [first, second] = await Promise.all([testKeyPair("EdDSA", "one"), testKeyPair("EdDSA", "two")]);
  const path = await tempFile(JSON.stringify({ keys: [first.jwk] }));
  const store = await KeyStore.open(path);
  expect(store.current.kids).toEqual(["one"]);
  await writeFile(path, JSON.stringify({ keys: [first.jwk, second.jwk] }));
  expect(await store.reload()).toEqual({ ok: true, kids: ["one", "two"] });
  await writeFile(path, "{ broken");
  expect(await store.reload()).toMatchObject({ ok: false, message: expect.stringContaining("is not valid JSON") });
  expect(store.current.kids).toEqual(["one", "two"]);
  await expect(KeyStore.open(join(path, "missing"))).rejects.toThrow("cannot be read");
});
