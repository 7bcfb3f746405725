// Registers every built-in kind once; import this module before loading a
// profile (the CLI does). A new kind is one more line here.
import { registerKind } from './registry.ts';
import { folderKind } from './folder/folder-kind.ts';
import { postgresKind } from './postgres/postgres-component.ts';
import { searchSnapshotKind } from './search/search-kind.ts';
import { volumesKind } from './volumes/volumes-component.ts';
import { cassandraKind } from './cassandra/cassandra-kind.ts';
import { redisKind } from './redis/redis-kind.ts';
import { objectStoreKind } from './objectstore/objectstore-kind.ts';

registerKind(folderKind);
registerKind(postgresKind);
registerKind(searchSnapshotKind);
registerKind(volumesKind);
registerKind(cassandraKind);
registerKind(redisKind);
registerKind(objectStoreKind);

export { kindNamed, registeredKinds, registeredRecognisers } from './registry.ts';
