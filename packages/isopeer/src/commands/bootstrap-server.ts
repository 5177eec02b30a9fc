import type { Command } from 'commander';

// Placeholder until the owning issue lands: registers the name so `isopeer --help` lists it.
export function registerBootstrapServer(program: Command): void {
  program
    .command('bootstrap-server')
    .description('(not yet available)')
    .allowUnknownOption()
    .action(() => {
      process.stderr.write('isopeer bootstrap-server: not yet available in this build\n');
      process.exitCode = 2;
    });
}
