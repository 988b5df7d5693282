// Packages only some features need (binaryen to instrument modules, bullmq and ioredis for the
// queue) are optional peers of pyfence: not installed with it, loaded when the feature is used,
// and when absent the error names what to install.

/** A feature needs a package that is not installed. */
export class MissingPackageError extends Error {
  constructor(
    readonly packages: readonly string[],
    feature: string,
  ) {
    super(`${feature} needs ${packages.map((p) => `'${p}'`).join(' and ')}: npm install ${packages.join(' ')}`);
    this.name = 'MissingPackageError';
  }
}

function installed(name: string): boolean {
  try {
    import.meta.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** Throws MissingPackageError naming every one of `packages` that cannot be resolved from pyfence. */
export function requirePackages(packages: readonly string[], feature: string): void {
  const missing = packages.filter((name) => !installed(name));
  if (missing.length) throw new MissingPackageError(missing, feature);
}
