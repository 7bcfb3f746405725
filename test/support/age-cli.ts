// The real age command-line tool (Debian's, image hoss-local/age:local), run
// on files in one host folder mounted at /work: keys made by age-keygen,
// files encrypted and decrypted by age, so hossadm is checked against the
// reference implementation, not against itself.
import { execFile } from 'node:child_process';
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const AGE_IMAGE = 'hoss-local/age:local';

/** Runs a shell line in the age image with `dir` at /work; resolves to stdout. */
export async function inAgeImage(dir: string, script: string): Promise<string> {
  const { stdout } = await run('docker', ['run', '--rm', '--network', 'none', '-v', `${dir}:/work`, AGE_IMAGE, 'sh', '-c', script], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

export interface AgeKey {
  /** The identity file as age-keygen wrote it (mode 0600 on the host). */
  identityFile: string;
  /** The "age1…" public key. */
  recipient: string;
}

/** A key pair made by age-keygen in `dir`: <name>.key, and <name>.pub holding the public key. */
export async function ageKeygen(dir: string, name: string): Promise<AgeKey> {
  await inAgeImage(dir, `age-keygen -o ${name}.key 2>/dev/null && age-keygen -y ${name}.key > ${name}.pub && chmod 644 ${name}.key ${name}.pub`);
  const identityFile = join(dir, `${name}.key`);
  await chmod(identityFile, 0o600);
  return { identityFile, recipient: (await readFile(join(dir, `${name}.pub`), 'utf8')).trim() };
}

/** `age -d -i <key> <input> > <output>`, names relative to `dir`; rejects when age refuses. */
export async function ageDecrypt(dir: string, key: string, input: string, output: string): Promise<void> {
  await inAgeImage(dir, `age -d -i ${key} -o ${output} ${input} && chmod 644 ${output}`);
}

/** `age -R <recipients file> -o <output> <input>`, names relative to `dir`. */
export async function ageEncrypt(dir: string, recipientsFile: string, input: string, output: string): Promise<void> {
  await inAgeImage(dir, `age -R ${recipientsFile} -o ${output} ${input} && chmod 644 ${output}`);
}
