// `hossadm init` names a Cassandra service but writes no instance: which
// keyspaces and nodes belong together is the operator's to say.
import type { ServiceRecogniser } from '../recogniser.ts';

export const cassandraRecogniser: ServiceRecogniser = {
  name: 'cassandra',
  title: 'Cassandra',
  images: [/cassandra/],
  labels: ['cassandra'],
  asFiles: 'its data is copied as files while it is stopped (for snapshots, write a cassandra instance by hand: see docs/commands.md)',
};
