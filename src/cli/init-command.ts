// hossadm init [--project NAME] [--config-dir DIR] [--backup-root DIR] [--dry-run]:
// reads a running Compose project and writes DIR/hossadm-profile.json and
// the .env it needs; --dry-run prints the profile instead.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { runInit, renderInit } from '../core/init/init.ts';
import { EngineClient } from '../docker/client.ts';
import { UsageError } from '../errors.ts';
import type { BareRunner } from './runner.ts';

export function registerInit(program: Command, bare: BareRunner): void {
  program
    .command('init')
    .description(
      'write a profile for a running Compose project into --config-dir (hossadm-profile.json and .env), from its containers, images, labels and mounts',
    )
    .option('--project <name>', 'the Compose project (default: the only one running)')
    .option('--backup-root <dir>', 'where backups go (default: <config dir>/backup)')
    .option('--dry-run', 'print the profile and the notes; write nothing', false)
    .option('--force', 'replace an existing hossadm-profile.json', false)
    .action((opts: { project?: string; backupRoot?: string; dryRun: boolean; force: boolean }) =>
      bare(async ({ options, reporter }) => {
        if (!options.configDir && !opts.dryRun) throw new UsageError('init needs --config-dir DIR: the folder the profile and its .env go into');
        const configDir = resolve(options.configDir ?? '.');
        const result = await runInit(
          { docker: new EngineClient(), reporter },
          { project: opts.project, configDir, backupRoot: opts.backupRoot ? resolve(opts.backupRoot) : undefined, dryRun: opts.dryRun, force: opts.force },
        );
        return { json: result, text: renderInit(result, opts.dryRun) };
      }),
    );
}
