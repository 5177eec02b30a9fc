import type { Command } from 'commander';

// Placeholder until the owning issue lands: registers the name so `isopeer --help` lists it.
export function registerNode(program: Command): void {
  program
    .command('node')
    .description('(not yet available)')
    .allowUnknownOption()
    .action(() => {
      process.stderr.write('isopeer node: not yet available in this build\n');
      process.exitCode = 2;
    });
}
