// Every kind of target, registered once: import this before openTarget.
import { registerTargetKind } from './registry.ts';
import { s3Kind } from './s3-kind.ts';
import { sftpKind } from './sftp-kind.ts';

registerTargetKind(s3Kind);
registerTargetKind(sftpKind);
