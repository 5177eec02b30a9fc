// Command-line options of the bench harnesses: `--name value`, a default when absent.

/** `opt(name, def)` over `argv`: the word after `--name`, or `def`. */
export function options(argv = process.argv.slice(2)) {
  return (name, def) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
  };
}
