/**
 * PostgreSQL text cannot hold NUL, which hostile input (a topic, a signed report's key) may carry:
 * it is kept as the visible escape `\u0000` rather than failing the statement that stores it.
 */
export function stripNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\\u0000') : text;
}
