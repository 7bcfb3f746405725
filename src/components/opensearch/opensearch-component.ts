// OpenSearch (and, by the same snapshot API, Elasticsearch) as one component.
import type { Component } from '../component.ts';
import { openSearchBackupTask, preflightOpenSearch, REPOSITORY_MEMBER } from './os-backup.ts';
import { openSearchRestoreTask } from './os-restore.ts';

export const openSearchComponent: Component = {
  id: 'opensearch',
  planBackup(config) {
    return [
      `register fs repository ${config.opensearch.repository} under ${config.opensearch.containerRepoDir} and verify it`,
      'snapshot all indices with global state (started while writers are stopped); require SUCCESS and 0 failed shards',
      `copy the repository folder with a helper into ${REPOSITORY_MEMBER}`,
    ];
  },
  ownsMember: (name) => name === REPOSITORY_MEMBER,
  preflightBackup: preflightOpenSearch,
  backup: openSearchBackupTask,
  restore: openSearchRestoreTask,
};
