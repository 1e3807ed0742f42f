/**
 * Queries written once for SQLite and PostgreSQL: a tagged template keeps the text and the values
 * apart, and renders placeholders per dialect (`?` or `$n`). Values are always bound, never spliced;
 * only `raw` text (column lists, fixed clauses written in this code) and `dialectText` enter the SQL.
 */
export type Dialect = 'sqlite' | 'postgres';

type Piece = string | Value | Query | Raw | PerDialect;

class Value {
  constructor(readonly value: unknown) {}
}

class Raw {
  constructor(readonly text: string) {}
}

class PerDialect {
  constructor(readonly texts: Readonly<Record<Dialect, string>>) {}
}

export class Query {
  /**
   * @internal `template` and `values` when every value of a `sql` call is bound (no nested
   * fragment): its text then depends on the call site alone and is rendered once per dialect.
   */
  constructor(
    readonly pieces: readonly Piece[],
    private readonly template?: TemplateStringsArray,
    private readonly values?: unknown[],
  ) {}

  /** The SQL text and bound values for one dialect. */
  render(dialect: Dialect): { text: string; values: unknown[] } {
    if (this.template && this.values) {
      const texts = renderedTemplates.get(this.template) ?? {};
      const text = (texts[dialect] ??= renderPieces(this.pieces, dialect, []));
      renderedTemplates.set(this.template, texts);
      return { text, values: this.values };
    }
    const values: unknown[] = [];
    const text = renderPieces(this.pieces, dialect, values);
    return { text, values };
  }
}

/** The text of each flat `sql` call site per dialect: a statement run per event renders once. */
const renderedTemplates = new WeakMap<TemplateStringsArray, Partial<Record<Dialect, string>>>();

function renderPieces(pieces: readonly Piece[], dialect: Dialect, values: unknown[]): string {
  let text = '';
  for (const piece of pieces) {
    if (typeof piece === 'string') text += piece;
    else if (piece instanceof Value) {
      values.push(piece.value);
      text += dialect === 'sqlite' ? '?' : `$${values.length}`;
    } else if (piece instanceof Query) text += renderPieces(piece.pieces, dialect, values);
    else if (piece instanceof Raw) text += piece.text;
    else text += piece.texts[dialect];
  }
  return text;
}

/** A query: each `${value}` is bound; a nested `sql`, `raw`, `join` or `dialectText` is inlined. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Query {
  const pieces: Piece[] = [];
  strings.forEach((text, i) => {
    if (text !== '') pieces.push(text);
    if (i < values.length) {
      const value = values[i];
      pieces.push(
        value instanceof Query || value instanceof Raw || value instanceof PerDialect
          ? value
          : new Value(value),
      );
    }
  });
  return new Query(pieces);
}

/** Text that enters the SQL as written: column lists and clauses fixed in this code, never input. */
export function raw(text: string): Query {
  return new Query([new Raw(text)]);
}

/** What differs between the two databases in one spot of a query that is otherwise shared. */
export function dialectText(texts: Readonly<Record<Dialect, string>>): Query {
  return new Query([new PerDialect(texts)]);
}

/** Fragments joined by a separator (`, ` by default). */
export function join(fragments: readonly Query[], separator = ', '): Query {
  const pieces: Piece[] = [];
  fragments.forEach((fragment, i) => {
    if (i > 0) pieces.push(separator);
    pieces.push(fragment);
  });
  return new Query(pieces);
}

/** `(v1, v2, …)` for `IN`; an empty list matches nothing (`IN (NULL)`), as SQL has no empty list. */
export function list(values: readonly unknown[]): Query {
  if (values.length === 0) return raw('(NULL)');
  return sql`(${join(values.map((value) => sql`${value}`))})`;
}

/** A fragment only when `condition` holds, else nothing. */
export function when(condition: boolean, fragment: Query): Query {
  return condition ? fragment : new Query([]);
}

/**
 * Text compared and ordered byte by byte, as both databases must agree on order (ids, keys, ISO
 * times): SQLite's default is already binary; PostgreSQL's default collation is not.
 */
export const bytewise = dialectText({ sqlite: '', postgres: ' COLLATE "C"' });

/** Row locks for a read-then-write in a transaction; SQLite's BEGIN IMMEDIATE already holds the file. */
export const forUpdate = dialectText({ sqlite: '', postgres: ' FOR UPDATE' });

/** Claims rows another collector has not locked (PostgreSQL); on SQLite one process writes at a time. */
export const forUpdateSkipLocked = dialectText({ sqlite: '', postgres: ' FOR UPDATE SKIP LOCKED' });

/** The greater of two values: SQLite's two-argument MAX, PostgreSQL's GREATEST. */
export const greatest = dialectText({ sqlite: 'MAX', postgres: 'GREATEST' });
