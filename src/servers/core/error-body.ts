// The JSON shape of every error the HTTP servers answer with.
export function errorBody(type: string, message: string) {
  return { error: { type, message } };
}
