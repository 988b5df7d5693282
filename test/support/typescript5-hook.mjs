// openapi-typescript builds its output with TypeScript 5's compiler API, which TypeScript 7 (this
// project's compiler) does not have: its `import "typescript"` is sent to the typescript5 alias.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === 'typescript' && context.parentURL && context.parentURL.includes('/openapi-typescript/')) return next('typescript5', context);
  return next(specifier, context);
}`),
  import.meta.url,
);
