// How an S3 target is reached, from the environment only (never argv):
//   HOSSADM_S3_ENDPOINT   the server's URL (unset: AWS itself)
//   HOSSADM_S3_REGION     region (default AWS_REGION, then us-east-1)
//   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY   the keys, or
//   HOSSADM_S3_CREDENTIALS_FILE  a file of those two KEY=value lines, not
//                         readable by group or others
//   HOSSADM_S3_CA_FILE (or AWS_CA_BUNDLE)  the CA that signed the server's certificate
import { readFile, stat } from 'node:fs/promises';
import { parseEnv } from '../config/env-file.ts';
import { ConfigError } from '../errors.ts';

export interface S3Settings {
  endpoint: string | undefined;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** PEM text of the CA to trust besides the system's. */
  ca: Buffer | undefined;
}

type Environment = Record<string, string | undefined>;

async function credentialsFile(path: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  let mode: number;
  let text: string;
  try {
    mode = (await stat(path)).mode;
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read HOSSADM_S3_CREDENTIALS_FILE ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(`HOSSADM_S3_CREDENTIALS_FILE ${path} is readable by others (mode ${(mode & 0o777).toString(8)})`, { hint: `chmod 600 ${path}` });
  }
  const values = parseEnv(text, path);
  if (!values.AWS_ACCESS_KEY_ID || !values.AWS_SECRET_ACCESS_KEY) {
    throw new ConfigError(`${path} must set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  }
  return { accessKeyId: values.AWS_ACCESS_KEY_ID, secretAccessKey: values.AWS_SECRET_ACCESS_KEY };
}

export async function s3SettingsFrom(env: Environment): Promise<S3Settings> {
  const endpoint = env.HOSSADM_S3_ENDPOINT || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint)) {
    throw new ConfigError(`HOSSADM_S3_ENDPOINT "${endpoint}" is not an http:// or https:// server address`, { hint: 'e.g. https://s3.example.net:9000' });
  }
  const file = env.HOSSADM_S3_CREDENTIALS_FILE;
  const keys = file
    ? await credentialsFile(file)
    : env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
      : undefined;
  if (!keys) {
    throw new ConfigError('no S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set', {
      hint: 'set both in the environment, or HOSSADM_S3_CREDENTIALS_FILE to a mode-600 file holding them',
    });
  }
  const caPath = env.HOSSADM_S3_CA_FILE || env.AWS_CA_BUNDLE;
  let ca: Buffer | undefined;
  if (caPath) {
    ca = await readFile(caPath).catch((error: NodeJS.ErrnoException) => {
      throw new ConfigError(`cannot read the S3 CA file ${caPath}: ${error.code ?? error.message}`, { cause: error });
    });
  }
  return { endpoint, region: env.HOSSADM_S3_REGION || env.AWS_REGION || 'us-east-1', ...keys, ca };
}
