// One kind of server in the offsite stack (S3, SFTP): its .env variables,
// files made before compose starts it, the wait until it answers and
// the settings `up` prints for hossadm and the tests.
import type { OffsiteContext } from './context.ts';

export interface OffsitePart {
  /** Compose services this part runs. */
  services: readonly string[];
  /** Variables .env must hold for this part. */
  required: readonly string[];
  /** KEY=value lines for a first .env (ports, keys). */
  env(): Promise<Array<[string, string]>>;
  /** Files and folders made before compose starts anything. */
  prepare(ctx: OffsiteContext): Promise<void>;
  /** Resolves once the servers answer and hold what tests expect (buckets, users). */
  ready(ctx: OffsiteContext, timeoutSeconds: number): Promise<void>;
  /** What `up` prints on stdout. */
  settings(ctx: OffsiteContext): Array<[string, string]>;
}
