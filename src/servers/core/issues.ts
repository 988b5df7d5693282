// One way to say what is wrong with a request, for every server: "path: message; path: message".
import type * as z from 'zod';

export function formatIssues(error: z.ZodError, what = 'body'): string {
  return error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`).join('; ');
}
