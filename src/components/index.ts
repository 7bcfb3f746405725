// The components of a backup, in the order they run. The order matters:
// config first (cheap, never changes during a run); Postgres and OpenSearch
// before volumes, because their freeze step is instant (a snapshot) while
// the volume copy is what keeps writers stopped.
import type { Component } from './component.ts';
import { configComponent } from './config/config-component.ts';
import { openSearchComponent } from './opensearch/opensearch-component.ts';
import { postgresComponent } from './postgres/postgres-component.ts';
import { volumesComponent } from './volumes/volumes-component.ts';

export const components: readonly Component[] = [configComponent, postgresComponent, openSearchComponent, volumesComponent];

export function componentOfMember(name: string, list: readonly Component[] = components): Component | undefined {
  return list.find((c) => c.ownsMember(name));
}
