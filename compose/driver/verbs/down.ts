// down: stop and remove the containers and network; volumes, data folders
// and config stay.
import { runCompose } from '../../../src/docker/compose-cli.ts';
import { composeProject, loadContext } from '../context.ts';
import { docker, say } from '../runtime.ts';

export async function down(hossDir: string): Promise<void> {
  const ctx = await loadContext(hossDir);
  await docker.ping();
  await runCompose(composeProject(ctx), ['down', '--remove-orphans']);
  say(`stack ${ctx.project} is down; its data is kept`);
}
