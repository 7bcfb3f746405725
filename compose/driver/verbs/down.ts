// down: stop and remove the containers and network; volumes, data folders
// and config stay.
import { downStack } from '../stack-verbs.ts';
import { hossStack } from './up.ts';

export function down(hossDir: string): Promise<void> {
  return downStack(hossDir, hossStack);
}
