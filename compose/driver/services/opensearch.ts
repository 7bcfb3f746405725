// OpenSearch at the search container's address. Retries are off: a timed-out
// request that the client re-sent on its own would run twice.
import { Client } from '@opensearch-project/opensearch';
import type { StackContext } from '../context.ts';
import { serviceAddress } from './containers.ts';

export async function searchClient(ctx: StackContext): Promise<Client> {
  const address = await serviceAddress(ctx, 'opensearch');
  return new Client({ node: `http://${address}:9200`, maxRetries: 0, requestTimeout: 120_000 });
}
