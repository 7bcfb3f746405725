// The s3:// kind of target: settings from the environment (s3-settings.ts),
// requests through @aws-sdk/client-s3 (s3-api.ts, imported when an S3 target
// is opened; the objectstore kind loads the SDK itself at start-up today).
import type { TargetKind } from './registry.ts';
import { s3SettingsFrom } from './s3-settings.ts';
import { parseS3Url, S3Target } from './s3-target.ts';

export const s3Kind: TargetKind = {
  scheme: 's3',
  example: 's3://bucket/prefix',
  async open(url, env, warn) {
    parseS3Url(url);
    const settings = await s3SettingsFrom(env);
    const { openS3Api } = await import('./s3-api.ts');
    return new S3Target(url, openS3Api(settings), { warn });
  },
};
